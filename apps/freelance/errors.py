"""Errors the time tracker expects; each carries the exit code the CLI answers with.

Exit codes: 0 success, 1 the state forbids it (nothing running, a timer already running,
overlapping entries, unknown entry or project), 2 bad input (usage, unreadable date, rate or
name), 3 the database cannot be opened or stays locked.
"""

from __future__ import annotations


class FreelanceError(Exception):
    """Base: a message for one line of stderr and an exit code."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Conflict(FreelanceError):
    """The request is well-formed but the current state forbids it."""

    exit_code = 1


class NotFound(FreelanceError):
    """An entry or project that does not exist."""

    exit_code = 1


class InvalidInput(FreelanceError):
    """A date, time, rate, name or option the user typed cannot be understood."""

    exit_code = 2


class StorageError(FreelanceError):
    """The SQLite file cannot be opened, or stays locked past the busy timeout."""

    exit_code = 3
