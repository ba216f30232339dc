"""`save script` writes Playwright Python that, run on its own, prints what the session printed."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from apps.scrape.runner import Reporter, run_script

SESSION = """\
navigate {site}/
title
capture h1
capture --all --attr data-price li
capture --json --text #top
links
navigate {site}/js
capture --all --text .item
navigate {site}/reveal
click on #more
wait #details
capture --text #details
navigate {site}/form
type #name Grace Hopper
type 'input[placeholder=city]' Arlington
click on #send
capture #greeting
back
url
forward
wait 5
capture --json --all p
save script {script}
"""


def test_a_saved_script_runs_with_python_and_reproduces_the_captures(
    session, site, scrape_env, tmp_path: Path
):
    script = tmp_path / "replay.py"
    out, err = io.StringIO(), io.StringIO()
    lines = SESSION.format(site=site, script=script).splitlines()
    assert run_script(session, lines, Reporter(out, err)) == 0, err.getvalue()

    replay = subprocess.run(
        [sys.executable, str(script)],
        env=scrape_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == out.getvalue()
    assert "Hello, Grace Hopper of Arlington!" in replay.stdout
    assert '"The hidden part"' not in replay.stdout  # plain text, not JSON, for that capture
    assert "The hidden part\n" in replay.stdout
