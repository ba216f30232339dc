"""Every test gets its own FREELANCE_DB in a tmp dir, Europe/Berlin time and a frozen clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from apps.freelance.cli import cli
from apps.freelance.clock import local_zone
from apps.freelance.store import Store

# Monday 30 March 2026, noon in Berlin (CEST, the day after the spring DST change).
NOW = "2026-03-30T12:00:00+02:00"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "freelance.db"
    monkeypatch.setenv("FREELANCE_DB", str(path))
    monkeypatch.setenv("TZ", "Europe/Berlin")
    monkeypatch.setenv("FREELANCE_NOW", NOW)
    monkeypatch.setenv("FREELANCE_HISTORY", "")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("FREELANCE_DATE_ORDER", "FREELANCE_ON_START", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def store(db: Path) -> Store:
    opened = Store(db, local_zone())
    yield opened
    opened.close()


Run = Callable[..., Result]


@pytest.fixture
def run(db: Path) -> Run:
    """Invoke `freelance ARGS...` in-process; returns the Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), prog_name="freelance")

    return invoke


@pytest.fixture
def run_json(run: Run) -> Callable[..., Any]:
    def invoke(*args: str) -> Any:
        result = run(*args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return invoke
