"""The one headless runner every scenario goes through.

It starts the scenario's target (unless `host` is given), runs Locust headless in its own
process with the Prometheus exporter loaded, shows live numbers from that exporter in a Rich
progress bar, then writes Locust's CSVs, `report.png` and `summary.json` into
`<results>/<scenario>-<timestamp>/`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from loadtests import report
from loadtests.scenarios import Scenario

EXPORTER = Path(__file__).resolve().parent / "exporter.py"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunOptions:
    users: int = 10
    spawn_rate: float = 2.0
    duration: int = 60
    host: str | None = None
    results: Path = RESULTS_DIR
    metrics_port: int = 9646
    linger: float = 6.0


@dataclass
class RunResult:
    folder: Path
    summary: dict[str, Any]
    returncode: int
    live: dict[str, float] = field(default_factory=dict)


def parse_duration(text: str) -> int:
    """`90`, `90s`, `5m`, `1h30m` -> seconds."""
    total, number = 0, ""
    units = {"s": 1, "m": 60, "h": 3600}
    for char in text.strip().lower():
        if char.isdigit():
            number += char
        elif char in units and number:
            total, number = total + int(number) * units[char], ""
        else:
            raise ValueError(f"{text!r} is not a duration like 30s, 5m or 1h30m")
    total += int(number) if number else 0
    if total <= 0:
        raise ValueError(f"{text!r}: the duration must be positive")
    return total


def locust_command(scenario: Scenario, options: RunOptions, host: str, folder: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        f"{EXPORTER},{scenario.locustfile}",
        "--headless",
        "--users",
        str(options.users),
        "--spawn-rate",
        f"{options.spawn_rate:g}",
        "--run-time",
        f"{options.duration}s",
        "--host",
        host,
        "--csv",
        str(folder / report.CSV_PREFIX),
        "--csv-full-history",
        "--only-summary",
        "--stop-timeout",
        "5",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "INFO",
        "--logfile",
        str(folder / "locust.log"),
    ]


def _scrape(port: int) -> dict[str, float]:
    """The exporter's aggregated numbers right now (empty while it is not up yet)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
    except httpx.HTTPError:
        return {}
    live: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.labels.get("name")
            if sample.name in {"locust_users", "locust_cpu_percent"} or (
                name == "Aggregated"
                and sample.name
                in {
                    "locust_requests_total",
                    "locust_failures_total",
                    "locust_requests_per_second",
                }
            ):
                live[sample.name] = sample.value
    return live


def run(scenario: Scenario, options: RunOptions, console: Console | None = None) -> RunResult:
    console = console or Console()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = options.results / f"{scenario.name}-{stamp}"
    folder.mkdir(parents=True, exist_ok=False)
    saved_log = os.environ.get("STACKYARD_LOADTEST_SERVER_LOG")
    os.environ["STACKYARD_LOADTEST_SERVER_LOG"] = str(folder / "server.log")
    try:
        return _run_in(folder, scenario, options, console)
    finally:
        if saved_log is None:
            os.environ.pop("STACKYARD_LOADTEST_SERVER_LOG", None)
        else:
            os.environ["STACKYARD_LOADTEST_SERVER_LOG"] = saved_log


def _run_in(folder: Path, scenario: Scenario, options: RunOptions, console: Console) -> RunResult:
    target = nullcontext(options.host) if options.host else scenario.target()
    started = datetime.now(UTC)
    cpu_max = 0.0
    live: dict[str, float] = {}
    with target as host:
        console.print(f"[bold]{scenario.name}[/] -> {host}  (results in {folder})", soft_wrap=True)
        env = dict(
            os.environ,
            STACKYARD_LOCUST_METRICS_PORT=str(options.metrics_port),
            STACKYARD_LOADTEST_SCENARIO=scenario.name,
            STACKYARD_LOCUST_LINGER=f"{options.linger:g}",
            PYTHONPATH=os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
        )
        with (folder / "locust.out").open("wb") as out:
            process = subprocess.Popen(
                locust_command(scenario, options, host, folder),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO_ROOT,
            )
            begin = time.monotonic()
            columns = (
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[numbers]}"),
            )
            with Progress(*columns, console=console, transient=False) as progress:
                bar = progress.add_task("load", total=options.duration, numbers="starting")
                while process.poll() is None:
                    time.sleep(1)
                    elapsed = min(time.monotonic() - begin, float(options.duration))
                    now = _scrape(options.metrics_port) if options.metrics_port else {}
                    if now:
                        live = now
                        cpu_max = max(cpu_max, now.get("locust_cpu_percent", 0.0))
                    description = "load" if elapsed < options.duration else "finishing"
                    progress.update(bar, completed=elapsed, description=description,
                                    numbers=_numbers(live))  # fmt: skip
                progress.update(bar, completed=options.duration, description="done")
    finished = datetime.now(UTC)
    if process.returncode != 0 or not (folder / f"{report.CSV_PREFIX}_stats.csv").exists():
        tail = (folder / "locust.out").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"locust exited with {process.returncode}:\n{tail}")
    run_info = {
        "scenario": scenario.name,
        "host": options.host or "self-started",
        "users": options.users,
        "spawn_rate": options.spawn_rate,
        "duration_s": options.duration,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "locust_cpu_max_percent": round(cpu_max, 1),
        "files": ["locust_stats.csv", "locust_stats_history.csv", "report.png", "summary.json"],
    }
    report.plot(folder, f"{scenario.name}: {options.users} users, {options.duration}s")
    summary = report.summarize(folder, run_info)
    return RunResult(folder, summary, process.returncode, live)


def _numbers(live: dict[str, float]) -> str:
    if not live:
        return "waiting for Locust"
    return (
        f"users {live.get('locust_users', 0):.0f}  "
        f"{live.get('locust_requests_per_second', 0):.1f} req/s  "
        f"requests {live.get('locust_requests_total', 0):.0f}  "
        f"failures {live.get('locust_failures_total', 0):.0f}  "
        f"cpu {live.get('locust_cpu_percent', 0):.0f}%"
    )
