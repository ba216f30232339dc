"""Start and stop Debian's headless Chromium through Playwright (never a downloaded browser)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from apps.scrape.session import one_line
from apps.scrape.settings import ScrapeSettings

if TYPE_CHECKING:
    from playwright.sync_api import Browser


class BrowserUnavailable(Exception):
    """Chromium or Playwright is missing or would not start; the message says what to do."""


@contextmanager
def open_browser(settings: ScrapeSettings) -> Iterator[Browser]:
    """Launch the configured Chromium headless and close it (and Playwright) on the way out."""
    if not settings.chromium.is_file():
        raise BrowserUnavailable(
            f"no Chromium at {settings.chromium}; install it (apt-get install chromium) "
            "or point STACKYARD_CHROMIUM at one"
        )
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserUnavailable(
            "the playwright package is missing; install it with: pip install 'stackyard[browser]'"
        ) from None
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(settings.chromium), headless=True, args=list(settings.flags)
            )
        except PlaywrightError as exc:
            raise BrowserUnavailable(
                f"Chromium at {settings.chromium} did not start: {one_line(exc.message)}"
            ) from None
        try:
            yield browser
        finally:
            with suppress(PlaywrightError):
                browser.close()
