"""A scraping session: one browser tab, the commands run in it, and what they recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from apps.scrape.codegen import render_script
from apps.scrape.commands import (
    CommandError,
    Invocation,
    Outcome,
    ParamKind,
    parse,
)
from apps.scrape.settings import ScrapeSettings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

NAVIGATING = {"navigate", "back", "forward"}
# Every id, class and tag of the page, for completion; capped so a huge page stays cheap.
VOCABULARY = """() => {
  const seen = new Set();
  for (const el of document.querySelectorAll('*')) {
    seen.add(el.localName);
    if (el.id) seen.add('#' + CSS.escape(el.id));
    for (const name of el.classList) seen.add('.' + CSS.escape(name));
    if (seen.size > 2000) break;
  }
  return [...seen];
}"""
_API_PREFIX = re.compile(r"^[A-Za-z]+\.[A-Za-z_]+: ")


@dataclass
class Vocabulary:
    """What completion offers besides the command table: selectors of the page, URLs seen."""

    selectors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def one_line(message: str) -> str:
    """Playwright's first message line without its `Locator.click:` prefix or call log."""
    first = message.strip().splitlines()[0] if message.strip() else "the browser gave no reason"
    return _API_PREFIX.sub("", first)


class ScrapeSession:
    """Runs command lines in one tab and keeps the successful replayable steps in order."""

    def __init__(self, browser: Browser, settings: ScrapeSettings) -> None:
        self.settings = settings
        self.context: BrowserContext = browser.new_context()
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(settings.timeout_ms)
        self.page.set_default_navigation_timeout(settings.navigation_timeout_ms)
        self.steps: list[Invocation] = []
        self.vocabulary = Vocabulary()

    def execute(self, line: str) -> Outcome | None:
        """Run one line; None for blank/comment lines. Raises CommandError (one line) or
        StopSession; a failed command changes nothing the session records."""
        invocation = parse(line)
        if invocation is None:
            return None
        outcome = self._run(invocation)
        if invocation.command.code is not None:
            self.steps.append(invocation)
        return outcome

    def _run(self, invocation: Invocation) -> Outcome:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            return invocation.command.run(self, invocation)
        except PlaywrightTimeout:
            raise CommandError(self._describe_timeout(invocation)) from None
        except PlaywrightError as exc:
            raise CommandError(one_line(exc.message)) from None
        except OSError as exc:
            raise CommandError(f"{exc.filename or 'file'}: {exc.strerror or exc}") from None

    def _describe_timeout(self, invocation: Invocation) -> str:
        name = invocation.command.name
        if name in NAVIGATING:
            limit = self.settings.navigation_timeout_ms
            target = invocation.arg("URL") or name
            return f"{target}: the page did not load within {limit} ms"
        limit = self.settings.timeout_ms
        css = next(
            (
                invocation.args[p.name]
                for p in invocation.command.params
                if p.kind in (ParamKind.CSS, ParamKind.WAIT) and p.name in invocation.args
            ),
            None,
        )
        if css is None:
            return f"{name}: timed out after {limit} ms"
        try:
            count = self.page.locator(css).count()
        except Exception:  # the page went away meanwhile; the timeout is still the news
            count = 0
        if count == 0:
            return f"no element matches {css!r} (waited {limit} ms)"
        state = "visible" if name == "wait" else "visible, enabled and still"
        return f"{count} element(s) match {css!r} but the first was not {state} within {limit} ms"

    def remember_url(self, url: str) -> None:
        if url not in self.vocabulary.urls:
            self.vocabulary.urls.append(url)

    def refresh_vocabulary(self) -> None:
        """Re-read the page's selectors and links for completion; best effort, never fails."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.vocabulary.selectors = list(self.page.evaluate(VOCABULARY))
            for link in self.page.evaluate("() => Array.from(document.links, a => a.href)"):
                self.remember_url(link)
        except PlaywrightError:
            return

    def save_script(self, path: str) -> int:
        """Write the replayable steps so far as a Playwright script; returns their number."""
        Path(path).write_text(render_script(self.steps, self.settings, Path(path).name))
        return len(self.steps)

    def close(self) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.context.close()
        except PlaywrightError:
            return
