"""The protocol every sandbox backend implements, and what goes in and comes out."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from apps.runner.limits import DEFAULT_LIMITS, Limits

LANGUAGES = ("python", "javascript")
"""Languages a backend may run; `Sandbox.unsupported` says which one it can run here."""


class SandboxUnavailable(RuntimeError):
    """No sandbox can run code on this machine; the message says why."""


@dataclass(frozen=True)
class SandboxRequest:
    language: str
    source: str
    stdin: str = ""
    limits: Limits = DEFAULT_LIMITS


class SandboxEvents:
    """Callbacks while a program runs; the default ignores everything."""

    def output(self, stream: str, chunk: bytes) -> None:
        """A chunk of `stdout` or `stderr` (only the part kept under the output cap)."""

    def line(self, number: int) -> None:
        """The line of the user's file being executed now."""

    def started(self) -> None:
        """The program is running."""


@dataclass
class SandboxResult:
    exit_code: int | None = None
    signal: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    truncated: bool = False
    cpu_time_s: float = 0.0
    wall_time_s: float = 0.0
    peak_memory_bytes: int = 0
    limit_hit: str | None = None
    cancelled: bool = False
    last_line: int | None = None
    notes: list[str] = field(default_factory=list)


class Sandbox(Protocol):
    name: str

    def check(self) -> None:
        """Raise `SandboxUnavailable` saying why if this backend cannot run code here."""

    def unsupported(self, language: str) -> str | None:
        """Why `language` cannot run in this sandbox here, or None if it can."""

    def run(
        self,
        request: SandboxRequest,
        events: SandboxEvents | None = None,
        cancel: threading.Event | None = None,
    ) -> SandboxResult:
        """Run the program to completion or to a limit; never raises for the program's faults."""
