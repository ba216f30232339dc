"""The interactive shell: prompt_toolkit history, Tab completion from the command table, help."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from apps.scrape.commands import (
    COMMANDS,
    Command,
    ParamKind,
    StopSession,
    all_names,
    match_command,
)
from apps.scrape.runner import Reporter, run_line
from apps.scrape.session import ScrapeSession, Vocabulary

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

GREETING = "stackyard scrape: type help for commands, Tab completes, Ctrl-D leaves."


def _words(text: str) -> tuple[list[str], str]:
    """The finished words before the cursor and the word being typed (lenient on quotes)."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if text and not text[-1].isspace() and words:
        return words[:-1], words[-1]
    return words, ""


class CommandCompleter(Completer):
    """Completes names, flags and parameters, all read from the one command table."""

    def __init__(self, vocabulary: Callable[[], Vocabulary]) -> None:
        self.vocabulary = vocabulary
        self.paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        done, current = _words(text)
        found = match_command(done) if done else None
        if found is None:
            yield from self._names(" ".join([*done, current]).lower(), len(current))
            return
        command, used = found
        yield from self._arguments(command, done[used:], current)

    def _names(self, typed: str, replace: int) -> Iterable[Completion]:
        for name in all_names():
            if name.startswith(typed) and name != typed:
                # Replace only the word under the cursor; the words before it already match.
                tail = name[len(typed) - replace :]
                yield Completion(tail, start_position=-replace, display=name)

    def _arguments(self, command: Command, given: list[str], current: str) -> Iterable[Completion]:
        if current.startswith("-"):
            for flag in command.flags:
                if flag.name.startswith(current):
                    yield Completion(
                        flag.name, start_position=-len(current), display_meta=flag.help
                    )
            return
        positional: list[str] = []
        expects_value = False
        for word in given:
            if expects_value:
                expects_value = False
            elif word.startswith("--"):
                known = command.find_flag(word)
                expects_value = known is not None and known.metavar is not None
            else:
                positional.append(word)
        if expects_value:
            return  # a flag's value (an attribute name) has no candidates
        param = None
        for index, candidate in enumerate(command.params):
            if candidate.rest or index == len(positional):
                param = candidate
                break
        if param is None:
            return
        if param.kind is ParamKind.FILE:
            yield from self.paths.get_completions(Document(current), CompleteEvent())
        elif param.kind is ParamKind.COMMAND:
            yield from self._plain(current, [c.name for c in COMMANDS])
        elif param.kind is ParamKind.URL:
            yield from self._plain(current, self.vocabulary().urls)
        elif param.kind in (ParamKind.CSS, ParamKind.WAIT):
            yield from self._plain(current, self.vocabulary().selectors)

    @staticmethod
    def _plain(current: str, candidates: Iterable[str]) -> Iterable[Completion]:
        for candidate in candidates:
            if candidate.startswith(current) and candidate != current:
                yield Completion(candidate, start_position=-len(current))


def _history(path: Path) -> History:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))


def run_shell(
    session: ScrapeSession,
    reporter: Reporter,
    *,
    input: Input | None = None,
    output: Output | None = None,
) -> int:
    """Read-eval-print until `exit` or end of input; errors never end the shell."""
    prompt: PromptSession[str] = PromptSession(
        history=_history(session.settings.history_file),
        completer=CommandCompleter(lambda: session.vocabulary),
        complete_while_typing=False,
        input=input,
        output=output,
    )
    reporter.err.write(f"{GREETING}\n")
    session.refresh_vocabulary()
    while True:
        try:
            line = prompt.prompt("scrape> ", in_thread=True)
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        try:
            run_line(session, line, reporter)
        except StopSession:
            return 0
        except KeyboardInterrupt:
            reporter.err.write("interrupted\n")
        session.refresh_vocabulary()
