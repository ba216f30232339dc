"""`stackyard scrape [URL] [--script FILE] [--json]`: the scraper shell, or a script of commands."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from apps.kernel.settings import SettingsError
from apps.scrape.settings import load_scrape_settings

EXIT_OK = 0
EXIT_COMMAND_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_BROWSER = 3

cli = typer.Typer(
    help="Drive headless Chromium with a small command language.",
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(code)


def _read_script(script: Path) -> list[str]:
    if str(script) == "-":
        return sys.stdin.read().splitlines()
    try:
        return script.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise _fail(f"cannot read the script {script}: {reason}", EXIT_USAGE) from None


@cli.command()
def scrape(
    url: str | None = typer.Argument(None, help="Page to open first."),
    script: Path | None = typer.Option(
        None,
        "--script",
        "-s",
        help="Run one command per line from FILE ('-' for stdin) instead of the shell.",
        metavar="FILE",
    ),
    json_output: bool = typer.Option(
        False, "--json", help="Print one {command, ok, result|error} JSON object per line."
    ),
) -> None:
    """Open a shell (history, Tab completion, `help`) driving headless Chromium.

    Commands: navigate URL, show code, capture CSS (--text, --attr NAME,
    --all, --json), click on CSS, type CSS TEXT, wait CSS|MS, back, forward,
    title, url, links, screenshot FILE, save script FILE (writes a runnable
    Playwright script), help, exit.

    With --script, or when stdin is not a terminal, each line runs in turn:
    `#` lines are comments; a failing command prints one line to stderr and
    the rest still run.

    Settings: STACKYARD_CHROMIUM (default /usr/bin/chromium),
    STACKYARD_CHROMIUM_FLAGS, STACKYARD_SCRAPE_TIMEOUT_MS (5000),
    STACKYARD_SCRAPE_NAVIGATION_TIMEOUT_MS (15000),
    STACKYARD_SCRAPE_HISTORY (~/.stackyard_scrape_history).

    Exit status: 0 done; 1 a script command failed; 2 bad usage, settings
    or script file; 3 the browser could not be started.
    """
    from apps.scrape.browser import BrowserUnavailable, open_browser
    from apps.scrape.runner import Reporter, run_line, run_script
    from apps.scrape.session import ScrapeSession

    try:
        settings = load_scrape_settings()
    except SettingsError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    interactive = script is None and sys.stdin.isatty()
    lines = _read_script(script or Path("-")) if not interactive else []
    reporter = Reporter(sys.stdout, sys.stderr, as_json=json_output)
    try:
        with open_browser(settings) as browser:
            session = ScrapeSession(browser, settings)
            opened = url is None or run_line(session, f"navigate {shlex.quote(url)}", reporter)
            if interactive:
                from apps.scrape.shell import run_shell

                code = run_shell(session, reporter)
            else:
                code = run_script(session, lines, reporter)
            session.close()
    except BrowserUnavailable as exc:
        raise _fail(str(exc), EXIT_NO_BROWSER) from None
    if not opened and not interactive:
        code = EXIT_COMMAND_FAILED
    raise typer.Exit(code)


if __name__ == "__main__":
    cli()
