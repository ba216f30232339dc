"""The interactive prompt: the same commands as the CLI, with completion and history.

`report project1 since 1/2/24`, `report all last week`, `start client-x +call`, `help`,
`help report`, `exit`. Each line runs through the Typer app itself, so the prompt and the
plain commands cannot drift apart; a failed line prints its error and the prompt goes on.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import typer
from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from typer.core import TyperGroup

from apps.freelance.clock import local_zone, now_utc
from apps.freelance.config import KEYS
from apps.freelance.errors import FreelanceError
from apps.freelance.store import Store

LEAVE = {"exit", "quit", "q"}
PROJECT_COMMANDS = {"start", "stop", "add", "report", "rate"}
PERIOD_WORDS = [
    "today",
    "yesterday",
    "this week",
    "last week",
    "this month",
    "last month",
    "this year",
    "last year",
    "last 7 days",
    "since",
    "until",
]
OPTION_VALUES = {
    "--by": ["day", "week"],
    "--if-running": ["stop", "refuse"],
    "--round-mode": ["up", "nearest", "down"],
    "--round-per": ["entry", "total"],
    "--date-order": ["dmy", "mdy", "ymd"],
}
CONFIG_VALUES = {
    "date-order": ["locale", "dmy", "mdy", "ymd"],
    "on-start": ["stop", "refuse"],
    "round": ["0", "6", "15"],
    "round-mode": ["up", "nearest", "down"],
    "round-per": ["entry", "total"],
}


class CommandCompleter(Completer):
    """Completes command names, project names, period words, options and their values."""

    def __init__(self, group: TyperGroup, project_names: Callable[[], list[str]]) -> None:
        self.group = group
        self.project_names = project_names

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        text = document.text_before_cursor
        words = text.split()
        current = "" if not words or text.endswith(" ") else words[-1]
        done = words if current == "" else words[:-1]
        for candidate in self.candidates(done, current):
            if candidate.lower().startswith(current.lower()):
                yield Completion(candidate + " ", start_position=-len(current), display=candidate)

    def candidates(self, done: list[str], current: str) -> Iterable[str]:
        if not done:
            return [*sorted(self.group.commands), "help", "exit"]
        command = self.group.commands.get(done[0])
        if done[0] == "help":
            return sorted(self.group.commands) if len(done) == 1 else []
        if command is None:
            return []
        if done[-1] in OPTION_VALUES:
            return OPTION_VALUES[done[-1]]
        if current.startswith("-"):
            return sorted(opt for p in command.params for opt in p.opts if opt.startswith("--"))
        positional = [w for w in done[1:] if not w.startswith("-")]
        if done[0] == "config":
            return self._config(positional)
        if done[0] in PROJECT_COMMANDS and not positional:
            names = self.project_names()
            return [*names, "all"] if done[0] == "report" else names
        if done[0] in {"report", "log"}:
            return self._period(positional[1:] if done[0] == "report" else positional)
        return []

    @staticmethod
    def _config(positional: list[str]) -> Iterable[str]:
        if not positional:
            return list(KEYS)
        return CONFIG_VALUES.get(positional[0], []) if len(positional) == 1 else []

    @staticmethod
    def _period(typed: list[str]) -> Iterable[str]:
        if not typed:
            return PERIOD_WORDS
        if typed[-1] in {"this", "last"}:
            return ["week", "month", "year", "7 days"]
        return []


def history_for(db: Path) -> History:
    """History beside the database (`$FREELANCE_HISTORY` overrides; empty disables)."""
    chosen = os.environ.get("FREELANCE_HISTORY")
    if chosen == "":
        return InMemoryHistory()
    path = Path(chosen).expanduser() if chosen else db.parent / "history"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))


def run_line(group: TyperGroup, db: Path, line: str) -> int | None:
    """Run one typed line; the exit code it would have had, or None to leave the prompt."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    if not words:
        return 0
    if words[0].lower() in LEAVE:
        return None
    if words[0] == "help":
        words = [*words[1:2], "--help"]
    try:
        code = group.main(
            args=["--db", str(db), *words], prog_name="freelance", standalone_mode=False
        )
    except typer.TyperException as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 1
    return code if isinstance(code, int) else 0


def run_script(group: TyperGroup, db: Path, lines: Iterable[str]) -> int:
    """Piped input (`freelance < commands.txt`): run each line; the last failure's code."""
    worst = 0
    for line in lines:
        code = run_line(group, db, line)
        if code is None:
            break
        worst = code or worst
    return worst


def prompt_text(db: Path) -> str:
    """`freelance> `, or `freelance (project)> ` while a timer runs."""
    try:
        with Store(db, local_zone()) as store:
            current = store.running()
    except FreelanceError:
        return "freelance> "
    if current is None:
        return "freelance> "
    minutes = int((now_utc() - current.start).total_seconds()) // 60
    return f"freelance ({current.project} {minutes // 60}:{minutes % 60:02d})> "


def run_shell(db: Path, session: PromptSession[str] | None = None) -> None:
    """Read commands until `exit` or Ctrl-D; Ctrl-C clears the line. Without a terminal,
    the lines of stdin are run as a script."""
    from apps.freelance.cli import cli

    group = typer.main.get_command(cli)
    assert isinstance(group, TyperGroup)

    def project_names() -> list[str]:
        try:
            with Store(db, local_zone()) as store:
                return store.project_names()
        except FreelanceError:
            return []

    if session is None and not sys.stdin.isatty():
        raise typer.Exit(run_script(group, db, sys.stdin))
    session = session or PromptSession(
        history=history_for(db),
        completer=CommandCompleter(group, project_names),
        auto_suggest=AutoSuggestFromHistory(),
        complete_while_typing=False,
    )
    typer.echo("freelance: type `help` for commands, Tab to complete, `exit` or Ctrl-D to leave")
    while True:
        try:
            line = session.prompt(prompt_text(db))
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if run_line(group, db, line) is None:
            break
