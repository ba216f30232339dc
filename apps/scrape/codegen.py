"""`save script`: a session's steps as a standalone Playwright Python script, like codegen's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from apps.scrape.commands import Invocation
from apps.scrape.settings import ScrapeSettings

HEADER = '''\
#!/usr/bin/env python3
"""Replays a `stackyard scrape` session recorded {when}.

Run it with `python {name}` (needs the `playwright` package). STACKYARD_CHROMIUM
picks another Chromium binary; stdout is what the session printed.
"""

{imports}

CHROMIUM = os.environ.get("STACKYARD_CHROMIUM") or {chromium!r}
FLAGS = [
{flags}]
if os.geteuid() == 0:
    FLAGS.append("--no-sandbox")  # Chromium's sandbox cannot run as root


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page()
        page.set_default_timeout({timeout})
        page.set_default_navigation_timeout({navigation_timeout})
'''

FOOTER = """\
        browser.close()


if __name__ == "__main__":
    main()
"""

STEP_INDENT = " " * 8


def render_script(
    steps: Sequence[Invocation], settings: ScrapeSettings, name: str = "replay.py"
) -> str:
    """The script: the same browser set-up, then each step under a comment with its line."""
    body: list[str] = []
    for step in steps:
        if step.command.code is None:
            continue
        body.append("# " + " ".join(step.line.splitlines()))
        body.extend(step.command.code(step))
    uses_json = any("json." in line for line in body)
    imports = ["import json"] if uses_json else []
    imports += ["import os", "", "from playwright.sync_api import sync_playwright"]
    header = HEADER.format(
        when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        imports="\n".join(imports),
        chromium=str(settings.chromium),
        name=name,
        flags="".join(f"    {flag!r},\n" for flag in settings.flags if flag != "--no-sandbox"),
        timeout=settings.timeout_ms,
        navigation_timeout=settings.navigation_timeout_ms,
    )
    lines = [f"{STEP_INDENT}{line}".rstrip() for line in body]
    return header + "".join(f"{line}\n" for line in lines) + FOOTER
