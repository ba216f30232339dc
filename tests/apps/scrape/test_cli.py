"""`stackyard scrape` as users run it, in its own process (the platform CLI only for --help:
importing every app costs seconds, and the command is the same function)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[3]


def stackyard(*args, env, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "apps.scrape.cli", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_help_is_mounted_as_the_scrape_command_itself():
    from apps.cli import app

    result = CliRunner().invoke(app, ["scrape", "--help"], prog_name="stackyard")
    assert result.exit_code == 0
    assert "Usage: stackyard scrape [OPTIONS] [url]" in result.stdout
    assert "--script" in result.stdout
    assert "Exit status" in result.stdout


def test_a_script_goes_on_after_errors_and_exits_1(chromium, scrape_env, site, tmp_path: Path):
    script = tmp_path / "steps.txt"
    script.write_text(
        "# a comment, then a blank line\n\n"
        "capture --text #top\n"
        "capture #absent\n"
        "frobnicate\n"
        "capture --all --attr data-price li\n"
    )
    result = stackyard(f"{site}/", "--script", str(script), env=scrape_env)
    assert result.returncode == 1
    assert result.stdout == "Hello, scraper\n3\n5\n"
    assert result.stderr.splitlines() == [
        f"200 {site}/",
        "error: line 4: no element matches '#absent' (waited 1500 ms)",
        "error: line 5: unknown command 'frobnicate'; type help for the list",
    ]


def test_json_prints_one_record_per_command_from_stdin(chromium, scrape_env, site):
    steps = f"navigate {site}/form\ntitle\nclick on #missing\ncapture --all --text li\n"
    result = stackyard("--json", env=scrape_env, stdin=steps)
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [
        {
            "command": f"navigate {site}/form",
            "ok": True,
            "result": {"url": f"{site}/form", "status": 200},
        },
        {"command": "title", "ok": True, "result": "Form"},
        {
            "command": "click on #missing",
            "ok": False,
            "error": "no element matches '#missing' (waited 1500 ms)",
        },
        {
            "command": "capture --all --text li",
            "ok": False,
            "error": "no element matches 'li' (waited 1500 ms)",
        },
    ]


def test_a_clean_script_exits_0(chromium, scrape_env, site, tmp_path: Path):
    script = tmp_path / "ok.txt"
    script.write_text(f"navigate {site}/\ntitle\nexit\ncapture #absent\n")
    result = stackyard("--script", str(script), env=scrape_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Static page\n"


def test_a_missing_browser_exits_3_with_one_line(scrape_env, tmp_path: Path):
    env = {**scrape_env, "STACKYARD_CHROMIUM": str(tmp_path / "no-chromium")}
    result = stackyard("--script", "-", env=env, stdin="title\n")
    assert result.returncode == 3
    assert result.stderr == (
        f"error: no Chromium at {tmp_path / 'no-chromium'}; install it (apt-get install "
        "chromium) or point STACKYARD_CHROMIUM at one\n"
    )


def test_an_unreadable_script_exits_2(scrape_env, tmp_path: Path):
    result = stackyard("--script", str(tmp_path / "absent.txt"), env=scrape_env)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: cannot read the script {tmp_path / 'absent.txt'}: No such file or directory\n"
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "STACKYARD_SCRAPE_TIMEOUT_MS",
            "soon",
            "STACKYARD_SCRAPE_TIMEOUT_MS='soon' is not an integer",
        ),
        ("STACKYARD_SCRAPE_TIMEOUT_MS", "0", "STACKYARD_SCRAPE_TIMEOUT_MS=0 must be at least 1"),
        ("STACKYARD_CHROMIUM_FLAGS", "'--x", "STACKYARD_CHROMIUM_FLAGS cannot be parsed"),
    ],
)
def test_bad_settings_exit_2_naming_the_variable(scrape_env, variable, value, message):
    result = stackyard("--script", "-", env={**scrape_env, variable: value}, stdin="")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {message}")
    assert result.stderr.count("\n") == 1
