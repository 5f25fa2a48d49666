"""The error tree and exit codes of netagent; exit codes live only here."""

from __future__ import annotations

import enum
import errno
from collections.abc import Sequence


class ExitCode(enum.IntEnum):
    """Process exit codes, documented in README.md ("Exit codes")."""

    OK = 0  # compliant, or applied and compliant
    DRIFT = 1  # audit found drift, or apply left checks that it cannot fix
    BAD_INPUT = 2  # bad profile, bad arguments, unreadable file
    APPLY_FAILED = 3  # a change failed; this run's changes were rolled back
    UNSAFE = 4  # cannot proceed safely: the lock is held, or the state file is corrupt
    OUTPUT = 74  # EX_IOERR: the report could not be written (a full disk, a closed pipe)
    INTERNAL = 70  # a bug (EX_SOFTWARE): never looks like drift


class NetagentError(Exception):
    """Base of every error the CLI turns into one clean message and an exit code."""

    exit_code = ExitCode.INTERNAL

    def lines(self) -> list[str]:
        """Return the message lines the CLI prints, one per problem."""
        return [str(self)]


class UsageError(NetagentError):
    """Bad command-line input (exit 2)."""

    exit_code = ExitCode.BAD_INPUT


class StateError(NetagentError):
    """The state directory cannot be used safely: corrupt or foreign state, lock held (exit 4)."""

    exit_code = ExitCode.UNSAFE


class OutputError(NetagentError):
    """Standard output or an --output file could not be written (exit 74)."""

    exit_code = ExitCode.OUTPUT


class Problem:
    """One thing wrong with a profile: where (file, line, field) and what."""

    __slots__ = ("field", "line", "message", "path")

    def __init__(self, path: str, line: int | None, field: str, message: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.message = message

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def __repr__(self) -> str:
        return f"Problem({self!s})"


class ProfileError(NetagentError):
    """A profile that cannot be used: every problem names the file, line and field (exit 2)."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        """Return one line per problem."""
        return [str(p) for p in self.problems]


class AdapterError(NetagentError):
    """A kernel read or write failed; carries the target, the operation and the errno."""

    exit_code = ExitCode.APPLY_FAILED

    def __init__(self, target: str, op: str, errno: int | None, reason: str) -> None:
        self.target = target
        self.op = op
        self.errno = errno
        self.reason = reason
        super().__init__(f"{target}: {op}: {reason}")


class NotSupported(AdapterError):
    """The device or kernel does not offer this operation (EOPNOTSUPP, ENOENT for a sysctl)."""


DETACHED = "device not present (detached: its driver is resetting or removing it)"


class Detached(AdapterError):
    """The interface exists but its device is not present (ENODEV from ethtool while its name still
    resolves, as ENA's during a reset): not gone, so nothing recorded for it may be forgotten."""


def no_device(target: str, op: str, still_named: bool) -> AdapterError:
    """Return the error of an ENODEV answer: Detached while the name still resolves, else gone."""
    if still_named:
        return Detached(target, op, errno.ENODEV, DETACHED)
    return AdapterError(target, op, errno.ENODEV, "no such device")


class ApplyFailed(NetagentError):
    """A change failed and this run's changes were undone (exit 3)."""

    exit_code = ExitCode.APPLY_FAILED

    def __init__(self, message: str, rolled_back: int, rollback_failures: Sequence[str] = ()) -> None:
        self.rolled_back = rolled_back
        self.rollback_failures = list(rollback_failures)
        super().__init__(message)

    def lines(self) -> list[str]:
        """Return the failure, then one loud line per rollback step that failed."""
        out = [f"{self}; rolled back {self.rolled_back} change{'s' if self.rolled_back != 1 else ''}"]
        out += [f"ROLLBACK FAILED: {f}" for f in self.rollback_failures]
        return out


class ApplyInterrupted(ApplyFailed):
    """A stop signal arrived mid-apply and this run's changes were undone (exit 3 for apply)."""
