"""Stop signals during a transaction: SIGTERM/SIGINT become a request to stop between changes."""

from __future__ import annotations


class StopSignals:
    """While applying, turn SIGTERM/SIGINT into a request to stop between changes (and roll back).

    A class that imports signal on entry, not a @contextlib.contextmanager: the one-shot audit
    imports the CLI and needs neither contextlib nor signal (2 ms together, issue 8).
    """

    def __enter__(self) -> list[int]:
        import signal

        self.received: list[int] = []
        stop = (signal.SIGTERM, signal.SIGINT)
        self.previous = {sig: signal.signal(sig, lambda signum, frame: self.received.append(signum)) for sig in stop}
        return self.received

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
