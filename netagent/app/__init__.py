"""Use cases: wire the pure core to the host adapters."""
