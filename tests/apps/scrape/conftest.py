"""One local site, one Chromium per test session, a fresh tab per test."""

from __future__ import annotations

import html
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.scrape.browser import open_browser
from apps.scrape.session import ScrapeSession
from apps.scrape.settings import ScrapeSettings, load_scrape_settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser

TIMEOUT_MS = 1500
SLOW_SECONDS = 4.0

PAGES = {
    "/": """<!doctype html><html><head><title>Static page</title></head><body>
<h1 id="top" class="big">Hello, scraper</h1>
<ul id="fruit"><li class="fruit" data-price="3">apple</li>
<li class="fruit" data-price="5">pear</li><li class="fruit">plum</li></ul>
<nav><a href="/js">Rendered
   later</a> <a href="/reveal">Reveal</a> <a href="/form">Form</a></nav>
</body></html>""",
    "/js": """<!doctype html><html><head><title>Rendered</title></head><body>
<div id="app">loading</div>
<script>
setTimeout(() => {
  document.getElementById('app').innerHTML =
    '<p class="item">one</p><p class="item">two</p>';
  document.title = 'Rendered by JS';
}, 300);
</script></body></html>""",
    "/reveal": """<!doctype html><html><head><title>Reveal</title></head><body>
<button id="more" onclick="setTimeout(() => {
  document.getElementById('details').style.display = 'block'}, 200)">More</button>
<div id="details" style="display:none">The <b>hidden</b> part</div>
<button id="never" disabled>Never enabled</button>
</body></html>""",
    "/form": """<!doctype html><html><head><title>Form</title></head><body>
<form action="/greet" method="get">
  <input name="name" id="name"> <input name="city" placeholder="city">
  <button type="submit" id="send">Send</button>
</form></body></html>""",
}


class SiteHandler(BaseHTTPRequestHandler):
    """Static pages, a JavaScript-rendered page, a form target and a page that never loads."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/greet":
            query = parse_qs(url.query)
            name = html.escape(query.get("name", ["nobody"])[0])
            city = html.escape(query.get("city", ["nowhere"])[0])
            self._send(200, f"<title>Greeting</title><p id='greeting'>Hello, {name} of {city}!</p>")
        elif url.path == "/slow":
            time.sleep(SLOW_SECONDS)
            self._send(200, "<title>Slow</title><p>late</p>")
        elif url.path in PAGES:
            self._send(200, PAGES[url.path])
        else:
            self._send(404, "<title>Not found</title><p>no such page</p>")

    def _send(self, status: int, body: str) -> None:
        data = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser gave up on /slow first, as the timeout test wants

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SiteHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the scraper tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def scrape_settings(tmp_path_factory: pytest.TempPathFactory) -> ScrapeSettings:
    base = load_scrape_settings()
    history = tmp_path_factory.mktemp("scrape") / "history"
    return replace(
        base, timeout_ms=TIMEOUT_MS, navigation_timeout_ms=TIMEOUT_MS, history_file=history
    )


@pytest.fixture(scope="session")
def scrape_env(scrape_settings: ScrapeSettings) -> dict[str, str]:
    """Environment for `stackyard scrape` subprocesses: the same browser, short timeouts."""
    return {
        **os.environ,
        "STACKYARD_CHROMIUM": str(scrape_settings.chromium),
        "STACKYARD_SCRAPE_TIMEOUT_MS": str(TIMEOUT_MS),
        "STACKYARD_SCRAPE_NAVIGATION_TIMEOUT_MS": str(TIMEOUT_MS),
        "STACKYARD_SCRAPE_HISTORY": str(scrape_settings.history_file),
    }


@pytest.fixture(scope="session")
def chromium(scrape_settings: ScrapeSettings) -> Path:
    """The Chromium binary, or a skip (a failure under CI=true) saying why there is none."""
    if not scrape_settings.chromium.is_file():
        _unavailable(f"no Chromium at {scrape_settings.chromium}: apt-get install chromium")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[browser]'")
    return scrape_settings.chromium


@pytest.fixture(scope="module")
def browser(chromium: Path, scrape_settings: ScrapeSettings) -> Iterator[Browser]:
    # Module scope, not session: Playwright's sync API keeps its event loop marked as running
    # in this thread while it is open, which would break every asyncio test that follows.
    with open_browser(scrape_settings) as launched:
        yield launched


@pytest.fixture
def session(browser: Browser, scrape_settings: ScrapeSettings) -> Iterator[ScrapeSession]:
    tab = ScrapeSession(browser, scrape_settings)
    yield tab
    tab.close()
