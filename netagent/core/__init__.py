"""The functional core: pure decisions, no I/O (no os, socket, subprocess, time, pyroute2, open())."""
