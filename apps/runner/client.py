"""The runner's client side: submit a file, then follow its stream until the result.

`follow` reads frames from any `receive()` (the websockets client in the CLI, Litestar's
test client in tests) and writes the program's output as it arrives.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

LANGUAGES_BY_SUFFIX = {".py": "python", ".js": "javascript", ".mjs": "javascript"}


class Refused(RuntimeError):
    """The server refused the request; the message is its problem detail."""


@dataclass
class Outcome:
    status: str = "unknown"
    execution: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """The program's exit code; 128 + N when killed by signal N; 1 when it failed."""
        if self.execution.get("exit_code") is not None:
            return int(self.execution["exit_code"])
        if self.execution.get("signal") is not None:
            return 128 + int(self.execution["signal"])
        return 1

    def summary(self) -> str:
        run = self.execution
        parts = [f"status {self.status}"]
        if run.get("exit_code") is not None:
            parts.append(f"exit code {run['exit_code']}")
        if run.get("signal") is not None:
            parts.append(f"signal {run['signal']}")
        if run.get("limit_hit"):
            parts.append(f"limit hit: {run['limit_hit']}")
        if run.get("truncated"):
            parts.append("output truncated")
        if run.get("cpu_time_s") is not None:
            parts.append(f"cpu {run['cpu_time_s']:.2f}s, wall {run.get('wall_time_s') or 0:.2f}s")
        if run.get("error"):
            parts.append(str(run["error"]))
        return ", ".join(parts)


def language_of(filename: str) -> str | None:
    suffix = "." + filename.rsplit(".", 1)[-1] if "." in filename else ""
    return LANGUAGES_BY_SUFFIX.get(suffix.lower())


def stream_url(server: str, execution_id: str) -> str:
    parts = urlsplit(server.rstrip("/"))
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"not an http(s) server URL: {server!r}")
    path = f"{parts.path}/runner/executions/{execution_id}/stream"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def follow(
    receive: Callable[[], str],
    stdout: TextIO,
    stderr: TextIO,
    on_line: Callable[[int], None] | None = None,
) -> Outcome:
    """Write stdout/stderr chunks as they come; return at the result frame."""
    outcome = Outcome()
    while True:
        frame = json.loads(receive())
        kind = frame.get("type")
        if kind == "stdout":
            stdout.write(frame["data"])
            stdout.flush()
        elif kind == "stderr":
            stderr.write(frame["data"])
            stderr.flush()
        elif kind == "status":
            outcome.status = frame["status"]
        elif kind == "line" and on_line is not None:
            on_line(int(frame["line"]))
        elif kind == "result":
            outcome.execution = frame["execution"]
            outcome.status = outcome.execution.get("status", outcome.status)
            return outcome
