"""Use cases: audit, apply, restore, persist, daemon; they wire the core to the host adapters."""
