"""Run command lines and report them: data on stdout, one-line errors and notices on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from apps.scrape.commands import CommandError, Outcome, StopSession
from apps.scrape.session import ScrapeSession


@dataclass
class Reporter:
    """Prints outcomes as text (stdout data, stderr notices) or as one JSON object per line."""

    out: TextIO
    err: TextIO
    as_json: bool = False

    def success(self, line: str, outcome: Outcome) -> None:
        if self.as_json:
            self._record({"command": line.strip(), "ok": True, "result": outcome.value})
            return
        for text in outcome.lines:
            self.out.write(f"{text}\n")
        self.out.flush()
        if outcome.notice:
            self.err.write(f"{outcome.notice}\n")
            self.err.flush()

    def failure(self, line: str, message: str, where: str = "") -> None:
        self.err.write(f"error: {where}{message}\n")
        self.err.flush()
        if self.as_json:
            self._record({"command": line.strip(), "ok": False, "error": message})

    def _record(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps(record, default=str) + "\n")
        self.out.flush()


def run_line(session: ScrapeSession, line: str, reporter: Reporter, where: str = "") -> bool:
    """Run and report one line; False if it failed. StopSession passes through (`exit`)."""
    try:
        outcome = session.execute(line)
    except CommandError as exc:
        reporter.failure(line, str(exc), where)
        return False
    except StopSession:
        if reporter.as_json:
            reporter.success(line, Outcome())
        raise
    if outcome is not None:
        reporter.success(line, outcome)
    return True


def run_script(session: ScrapeSession, lines: Iterable[str], reporter: Reporter) -> int:
    """Run every line in order, going on after failures; exit status 1 if any line failed."""
    failed = False
    for number, line in enumerate(lines, start=1):
        try:
            ok = run_line(session, line, reporter, where=f"line {number}: ")
        except StopSession:
            break
        failed = failed or not ok
    return 1 if failed else 0
