"""The scraper's command language: one table drives help, completion, the runner and save-script.

Each command carries its syntax (parameters and flags), its help, the function that runs it
against the live page and the function that writes the same step as Playwright Python. Lines
are tokenized with `shlex`, so a selector or text holding spaces or quotes can be quoted.
"""

from __future__ import annotations

import difflib
import json
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apps.scrape.session import ScrapeSession


class CommandError(Exception):
    """A command could not be parsed or did not succeed; the message is one line for the user."""


class StopSession(Exception):
    """Raised by `exit`: the shell or script ends after this command."""


class ParamKind(Enum):
    """What a parameter holds; completion offers candidates by kind."""

    URL = "url"
    CSS = "css"
    TEXT = "text"
    FILE = "file"
    WAIT = "wait"
    COMMAND = "command"


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind
    optional: bool = False
    rest: bool = False
    """Takes every remaining word, joined by single spaces (`click on div > a` needs no quotes)."""


@dataclass(frozen=True)
class Flag:
    name: str
    help: str
    metavar: str | None = None
    """Set when the flag takes a value (`--attr NAME`)."""


@dataclass(frozen=True)
class Invocation:
    """One parsed line: the command, its parameter values and its flags."""

    command: Command
    line: str
    args: dict[str, str] = field(default_factory=dict)
    flags: dict[str, str | bool] = field(default_factory=dict)

    def arg(self, name: str) -> str:
        return self.args.get(name, "")

    def flag(self, name: str) -> str | bool:
        return self.flags.get(name, False)


@dataclass(frozen=True)
class Outcome:
    """What a command produced: `value` for --json, `lines` for stdout, `notice` for stderr."""

    value: Any = None
    lines: tuple[str, ...] = ()
    notice: str | None = None


Runner = Callable[["ScrapeSession", Invocation], Outcome]
CodeWriter = Callable[[Invocation], list[str]]


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    run: Runner
    code: CodeWriter | None = None
    """Playwright Python for `save script`; None for commands that are not replayed."""
    params: tuple[Param, ...] = ()
    flags: tuple[Flag, ...] = ()
    aliases: tuple[str, ...] = ()
    example: str = ""
    exclusive: tuple[str, ...] = ()
    """Flags of which at most one may be given."""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def usage(self) -> str:
        parts = [self.name]
        for flag in self.flags:
            parts.append(f"[{flag.name}{' ' + flag.metavar if flag.metavar else ''}]")
        for param in self.params:
            label = f"{param.name}..." if param.rest else param.name
            parts.append(f"[{label}]" if param.optional else label)
        return " ".join(parts)

    def find_flag(self, name: str) -> Flag | None:
        return next((flag for flag in self.flags if flag.name == name), None)


# --- JavaScript shared by the live run and the saved script, so both print the same thing ---

OUTER_HTML = "e => e.outerHTML"
INNER_TEXT = "e => e.innerText"
ATTRIBUTE = "(e, name) => e.getAttribute(name)"
ALL_OUTER_HTML = "els => els.map(e => e.outerHTML)"
ALL_INNER_TEXT = "els => els.map(e => e.innerText)"
ALL_ATTRIBUTES = "(els, name) => els.map(e => e.getAttribute(name)).filter(v => v !== null)"
LINKS = (
    "() => Array.from(document.querySelectorAll('a[href]'), "
    "a => ({href: a.href, text: a.innerText.replace(/\\s+/g, ' ').trim()}))"
)


def normalize_url(raw: str) -> str:
    """Add `https://` to a bare host (`example.com/x`); leave schemes and about:blank alone."""
    if "://" in raw or raw.startswith(("about:", "data:", "file:", "javascript:")):
        return raw
    return f"https://{raw}"


def _capture_script(inv: Invocation) -> tuple[str, str | None]:
    """The JavaScript and its argument for a capture, from its flags."""
    attr = inv.flag("--attr")
    many = bool(inv.flag("--all"))
    if isinstance(attr, str):
        return (ALL_ATTRIBUTES if many else ATTRIBUTE), attr
    if inv.flag("--text"):
        return (ALL_INNER_TEXT if many else INNER_TEXT), None
    return (ALL_OUTER_HTML if many else OUTER_HTML), None


def _capture_lines(value: str | list[str], as_json: bool) -> tuple[str, ...]:
    if as_json:
        return (json.dumps(value),)
    return tuple(value) if isinstance(value, list) else (value,)


def _link_lines(links: Sequence[dict[str, str]]) -> tuple[str, ...]:
    return tuple(f"{link['href']}\t{link['text']}" for link in links)


def _call(script: str, arg: str | None) -> str:
    return f"{script!r}" if arg is None else f"{script!r}, {arg!r}"


# --- the commands: each runner beside the code it is replayed as -------------------------


def _run_help(session: ScrapeSession, inv: Invocation) -> Outcome:
    topic = inv.arg("COMMAND")
    if topic:
        command = lookup(topic)
        if command is None:
            raise CommandError(f"no command {topic!r}; type help for the list")
        return Outcome(value=command_help(command), lines=tuple(command_help(command)))
    return Outcome(value=overview(), lines=tuple(overview()))


def _run_show_code(session: ScrapeSession, inv: Invocation) -> Outcome:
    html = session.page.content()
    return Outcome(value=html, lines=(html,))


def _code_show_code(inv: Invocation) -> list[str]:
    return ["print(page.content())"]


def _run_navigate(session: ScrapeSession, inv: Invocation) -> Outcome:
    url = normalize_url(inv.arg("URL"))
    response = session.page.goto(url)
    status = response.status if response is not None else None
    session.remember_url(session.page.url)
    value = {"url": session.page.url, "status": status}
    return Outcome(value=value, notice=f"{status or '-'} {session.page.url}")


def _code_navigate(inv: Invocation) -> list[str]:
    return [f"page.goto({normalize_url(inv.arg('URL'))!r})"]


def _run_capture(session: ScrapeSession, inv: Invocation) -> Outcome:
    css = inv.arg("CSS")
    script, arg = _capture_script(inv)
    locator = session.page.locator(css)
    if inv.flag("--all"):
        locator.first.wait_for(state="attached")
        value = locator.evaluate_all(script, arg)
    else:
        value = locator.first.evaluate(script, arg)
        if value is None:
            raise CommandError(f"the first element matching {css!r} has no attribute {arg!r}")
    return Outcome(value=value, lines=_capture_lines(value, bool(inv.flag("--json"))))


def _code_capture(inv: Invocation) -> list[str]:
    css = inv.arg("CSS")
    script, arg = _capture_script(inv)
    as_json = bool(inv.flag("--json"))
    if inv.flag("--all"):
        lines = [
            f"page.locator({css!r}).first.wait_for(state='attached')",
            f"values = page.locator({css!r}).evaluate_all({_call(script, arg)})",
        ]
        if as_json:
            return [*lines, "print(json.dumps(values))"]
        return [*lines, "for value in values:", "    print(value)"]
    fetch = f"page.locator({css!r}).first.evaluate({_call(script, arg)})"
    return [f"print(json.dumps({fetch}))" if as_json else f"print({fetch})"]


def _run_click(session: ScrapeSession, inv: Invocation) -> Outcome:
    session.page.locator(inv.arg("CSS")).first.click()
    return Outcome()


def _code_click(inv: Invocation) -> list[str]:
    return [f"page.locator({inv.arg('CSS')!r}).first.click()"]


def _run_type(session: ScrapeSession, inv: Invocation) -> Outcome:
    session.page.locator(inv.arg("CSS")).first.fill(inv.arg("TEXT"))
    return Outcome()


def _code_type(inv: Invocation) -> list[str]:
    return [f"page.locator({inv.arg('CSS')!r}).first.fill({inv.arg('TEXT')!r})"]


def _wait_ms(target: str) -> int | None:
    return int(target) if target.isdigit() else None


def _run_wait(session: ScrapeSession, inv: Invocation) -> Outcome:
    target = inv.arg("CSS|MS")
    ms = _wait_ms(target)
    if ms is not None:
        session.page.wait_for_timeout(ms)
    else:
        session.page.locator(target).first.wait_for(state="visible")
    return Outcome()


def _code_wait(inv: Invocation) -> list[str]:
    target = inv.arg("CSS|MS")
    ms = _wait_ms(target)
    if ms is not None:
        return [f"page.wait_for_timeout({ms})"]
    return [f"page.locator({target!r}).first.wait_for(state='visible')"]


def _run_back(session: ScrapeSession, inv: Invocation) -> Outcome:
    if session.page.go_back() is None:
        raise CommandError("there is no previous page in this session's history")
    return Outcome(value={"url": session.page.url}, notice=session.page.url)


def _run_forward(session: ScrapeSession, inv: Invocation) -> Outcome:
    if session.page.go_forward() is None:
        raise CommandError("there is no next page in this session's history")
    return Outcome(value={"url": session.page.url}, notice=session.page.url)


def _run_title(session: ScrapeSession, inv: Invocation) -> Outcome:
    title = session.page.title()
    return Outcome(value=title, lines=(title,))


def _run_url(session: ScrapeSession, inv: Invocation) -> Outcome:
    return Outcome(value=session.page.url, lines=(session.page.url,))


def _run_links(session: ScrapeSession, inv: Invocation) -> Outcome:
    links = session.page.evaluate(LINKS)
    return Outcome(value=links, lines=_link_lines(links))


def _code_links(inv: Invocation) -> list[str]:
    return [
        f"for link in page.evaluate({LINKS!r}):",
        "    print(f\"{link['href']}\\t{link['text']}\")",
    ]


def _run_screenshot(session: ScrapeSession, inv: Invocation) -> Outcome:
    path = inv.arg("FILE")
    session.page.screenshot(path=path, full_page=True)
    return Outcome(value={"file": path}, notice=f"screenshot saved to {path}")


def _code_screenshot(inv: Invocation) -> list[str]:
    return [f"page.screenshot(path={inv.arg('FILE')!r}, full_page=True)"]


def _run_save_script(session: ScrapeSession, inv: Invocation) -> Outcome:
    path = inv.arg("FILE")
    steps = session.save_script(path)
    return Outcome(value={"file": path, "steps": steps}, notice=f"saved {steps} steps to {path}")


def _run_exit(session: ScrapeSession, inv: Invocation) -> Outcome:
    raise StopSession


CSS = Param("CSS", ParamKind.CSS)
CSS_REST = Param("CSS", ParamKind.CSS, rest=True)
FILE = Param("FILE", ParamKind.FILE)

COMMANDS: tuple[Command, ...] = (
    Command(
        "navigate",
        "Open URL (https:// is added to a bare host).",
        _run_navigate,
        _code_navigate,
        params=(Param("URL", ParamKind.URL),),
        aliases=("goto",),
        example="navigate http://127.0.0.1:8000/",
    ),
    Command(
        "show code",
        "Print the HTML of the current page, as rendered now.",
        _run_show_code,
        _code_show_code,
    ),
    Command(
        "capture",
        "Print the first element matching CSS (outerHTML unless told otherwise).",
        _run_capture,
        _code_capture,
        params=(CSS_REST,),
        flags=(
            Flag("--text", "its rendered text instead of its HTML"),
            Flag("--attr", "the value of attribute NAME", metavar="NAME"),
            Flag("--all", "every matching element, one per line"),
            Flag("--json", "print the result as JSON (a string, or a list with --all)"),
        ),
        exclusive=("--text", "--attr"),
        example="capture --all --attr href nav a",
    ),
    Command(
        "click on",
        "Click the first element matching CSS.",
        _run_click,
        _code_click,
        params=(CSS_REST,),
        example="click on button#more",
    ),
    Command(
        "type",
        "Fill the field matching CSS with TEXT (quote CSS if it has spaces).",
        _run_type,
        _code_type,
        params=(CSS, Param("TEXT", ParamKind.TEXT, rest=True)),
        example="type input[name=q] stackyard scraper",
    ),
    Command(
        "wait",
        "Wait until CSS is visible, or for MS milliseconds.",
        _run_wait,
        _code_wait,
        params=(Param("CSS|MS", ParamKind.WAIT, rest=True),),
        example="wait #results",
    ),
    Command(
        "back",
        "Go back one page.",
        _run_back,
        lambda inv: ["page.go_back()"],
    ),
    Command(
        "forward",
        "Go forward one page.",
        _run_forward,
        lambda inv: ["page.go_forward()"],
    ),
    Command("title", "Print the page title.", _run_title, lambda inv: ["print(page.title())"]),
    Command("url", "Print the current URL.", _run_url, lambda inv: ["print(page.url)"]),
    Command(
        "links",
        "Print every link of the page: absolute URL, a tab, its text.",
        _run_links,
        _code_links,
    ),
    Command(
        "screenshot",
        "Save a full-page PNG screenshot to FILE.",
        _run_screenshot,
        _code_screenshot,
        params=(FILE,),
        example="screenshot page.png",
    ),
    Command(
        "save script",
        "Write the session so far as a runnable Playwright Python script.",
        _run_save_script,
        params=(FILE,),
        example="save script replay.py",
    ),
    Command(
        "help",
        "List the commands, or explain one.",
        _run_help,
        params=(Param("COMMAND", ParamKind.COMMAND, optional=True, rest=True),),
        example="help capture",
    ),
    Command("exit", "Leave the shell (Ctrl-D does too).", _run_exit, aliases=("quit",)),
)


def all_names() -> list[str]:
    """Every name a line may start with, primary names first."""
    return [name for command in COMMANDS for name in command.names]


def lookup(name: str) -> Command | None:
    wanted = " ".join(name.lower().split())
    return next((c for c in COMMANDS if wanted in c.names), None)


def overview() -> list[str]:
    width = max(len(command.usage) for command in COMMANDS)
    lines = [f"  {command.usage:<{width}}  {command.summary}" for command in COMMANDS]
    return [
        "Commands (help COMMAND for details; quote arguments holding spaces or quotes):",
        *lines,
    ]


def command_help(command: Command) -> list[str]:
    lines = [f"usage: {command.usage}", f"  {command.summary}"]
    if command.aliases:
        lines.append(f"  also: {', '.join(command.aliases)}")
    lines.extend(
        f"  {flag.name}{' ' + flag.metavar if flag.metavar else ''}  {flag.help}"
        for flag in command.flags
    )
    if command.exclusive:
        lines.append(f"  (only one of {', '.join(command.exclusive)})")
    if command.example:
        lines.append(f"  example: {command.example}")
    return lines


def tokenize(line: str) -> list[str]:
    """Split a line like a POSIX shell; an unclosed quote is a one-line error."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise CommandError(f"cannot parse the line: {str(exc).lower()}") from None


def is_blank(line: str) -> bool:
    """Blank lines and `#` comment lines carry no command (`capture #id` is not a comment)."""
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def match_command(tokens: Sequence[str]) -> tuple[Command, int] | None:
    """The command whose (possibly multi-word) name starts `tokens`, longest name first."""
    lowered = [token.lower() for token in tokens]
    candidates = [(name, command) for command in COMMANDS for name in command.names]
    for name, command in sorted(candidates, key=lambda pair: -len(pair[0].split())):
        words = name.split()
        if lowered[: len(words)] == words:
            return command, len(words)
    return None


def _unknown(tokens: Sequence[str]) -> CommandError:
    first = tokens[0].lower()
    starting = [name for name in all_names() if name.split()[0] == first]
    if starting:
        return CommandError(f"did you mean {starting[0]!r}? type help {starting[0]}")
    close = difflib.get_close_matches(first, [n.split()[0] for n in all_names()], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "; type help for the list"
    return CommandError(f"unknown command {tokens[0]!r}{hint}")


def _split_flags(command: Command, words: Sequence[str]) -> tuple[list[str], dict[str, str | bool]]:
    positional: list[str] = []
    flags: dict[str, str | bool] = {}
    items = iter(words)
    only_positional = False
    for word in items:
        if only_positional or not word.startswith("--"):
            positional.append(word)
            continue
        if word == "--":
            only_positional = True
            continue
        name, has_value, inline = word.partition("=")
        flag = command.find_flag(name)
        if flag is None:
            known = ", ".join(f.name for f in command.flags) or "none"
            raise CommandError(f"{command.name} has no option {name} (options: {known})")
        if flag.metavar is None:
            if has_value:
                raise CommandError(f"{name} takes no value")
            flags[name] = True
            continue
        value = inline if has_value else next(items, None)
        if not value:
            raise CommandError(f"{name} needs a {flag.metavar}")
        flags[name] = value
    return positional, flags


def _bind(command: Command, positional: list[str]) -> dict[str, str]:
    args: dict[str, str] = {}
    for index, param in enumerate(command.params):
        if param.rest:
            words = positional[index:]
            positional = positional[:index]
            if words:
                args[param.name] = " ".join(words)
        elif index < len(positional):
            args[param.name] = positional[index]
        if param.name not in args and not param.optional:
            raise CommandError(f"{command.name} needs {param.name}; usage: {command.usage}")
    extra = positional[len(command.params) :]
    if extra:
        raise CommandError(
            f"{command.name} got an unexpected {extra[0]!r} (quote arguments that hold spaces); "
            f"usage: {command.usage}"
        )
    return args


def parse(line: str) -> Invocation | None:
    """Parse one line into an Invocation; None for a blank or comment line."""
    if is_blank(line):
        return None
    tokens = tokenize(line)
    if not tokens:
        return None
    found = match_command(tokens)
    if found is None:
        raise _unknown(tokens)
    command, used = found
    positional, flags = _split_flags(command, tokens[used:])
    clashing = [name for name in command.exclusive if name in flags]
    if len(clashing) > 1:
        raise CommandError(f"{command.name} takes only one of {', '.join(clashing)}")
    return Invocation(command, line.strip(), _bind(command, positional), flags)
