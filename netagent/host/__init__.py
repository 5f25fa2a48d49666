"""Adapters to the kernel: each reads or writes one thing and returns plain values."""
