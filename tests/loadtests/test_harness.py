"""The harness without running Locust: registry, CLI errors, durations, the report files."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loadtests import report, runner, scenarios

HEADER = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
    "99.9%,99.99%,100%,Total Request Count,Total Failure Count\n"
)
STATS = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,"
    "75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
    "GET,/blog/articles,90,0,12,14.0,3,80,512,9.0,0.0,12,14,15,16,20,30,50,70,80,80,80\n"
    "POST,/todo/tasks [create],10,1,20,22.0,9,90,300,1.0,0.1,20,22,23,24,30,40,60,90,90,90,90\n"
    ",Aggregated,100,1,13,15.0,3,90,491,10.0,0.1,13,15,16,17,22,32,55,75,90,90,90\n"
)


def _locust_csvs(folder: Path, cpu_line: str = "") -> Path:
    folder.mkdir(parents=True)
    rows = "".join(
        f"{1700000000 + t},5,,Aggregated,{t * 1.5},{0.1 if t > 5 else 0},12,14,15,16,20,{30 + t},"
        f"50,{60 + t},80,80,80,{t * 10},{t // 6}\n"
        for t in range(1, 11)
    )
    (folder / "locust_stats_history.csv").write_text(HEADER + rows)
    (folder / "locust_stats.csv").write_text(STATS)
    (folder / "locust.log").write_text(f"[2026] INFO/locust.main: Starting Locust\n{cpu_line}")
    return folder


def test_api_mix_is_registered_with_its_locustfile_and_target() -> None:
    found = scenarios.discover()
    assert "api-mix" in found
    assert found["api-mix"].locustfile.name == "api_mix.py"
    assert callable(found["api-mix"].target)


def test_a_scenario_plugs_in_by_registering_itself(tmp_path: Path) -> None:
    locustfile = tmp_path / "cdn.py"
    locustfile.write_text("# a locustfile\n")

    @contextmanager
    def target():
        yield "http://127.0.0.1:1"

    scenarios.register(scenarios.Scenario("cdn-test-only", locustfile, target))
    assert scenarios.get("cdn-test-only").locustfile == locustfile
    with pytest.raises(FileNotFoundError):
        scenarios.register(scenarios.Scenario("broken", tmp_path / "missing.py", target))


def test_unknown_scenario_exits_2_and_names_the_known_ones() -> None:
    from apps.cli import app

    result = CliRunner().invoke(app, ["loadtest", "no-such-scenario"])
    assert result.exit_code == 2
    assert "api-mix" in result.output


@pytest.mark.parametrize(
    ("text", "seconds"), [("10", 10), ("10s", 10), ("5m", 300), ("1h30m", 5400)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert runner.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "ten", "5x"])
def test_parse_duration_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        runner.parse_duration(text)


def test_locust_runs_with_the_exporter_csvs_and_the_scenario(tmp_path: Path) -> None:
    scenario = scenarios.get("api-mix")
    options = runner.RunOptions(users=5, spawn_rate=5, duration=10)
    command = runner.locust_command(scenario, options, "http://127.0.0.1:9", tmp_path)
    assert command[command.index("-f") + 1] == f"{runner.EXPORTER},{scenario.locustfile}"
    assert "--headless" in command and "--csv-full-history" in command
    assert command[command.index("--run-time") + 1] == "10s"


def test_report_plots_and_summarizes_locust_csvs(tmp_path: Path) -> None:
    folder = _locust_csvs(tmp_path / "run")
    png = report.plot(folder, "api-mix")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = report.summarize(folder, {"scenario": "api-mix", "locust_cpu_max_percent": 40.0})
    assert summary["requests"] == 100 and summary["failures"] == 1
    assert summary["latency_ms"]["p95"] == 32.0
    assert summary["load_generator_cpu_bound"] is False
    assert [r["name"] for r in summary["requests_by_name"]] == [
        "/blog/articles",
        "/todo/tasks [create]",
    ]
    assert json.loads((folder / "summary.json").read_text())["requests_per_second"] == 10.0


def test_summary_flags_a_cpu_bound_load_generator(tmp_path: Path) -> None:
    line = "[2026] WARNING/root: CPU usage above 90%! This may constrain your throughput"
    folder = _locust_csvs(tmp_path / "run", cpu_line=line)
    summary = report.summarize(folder, {"scenario": "api-mix", "locust_cpu_max_percent": 12.0})
    assert summary["load_generator_cpu_bound"] is True
    assert "CPU usage above 90%" in summary["cpu_warning"]
