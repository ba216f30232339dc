"""A real 10-second, 5-user api-mix run against a self-started server, recorded by Prometheus.

One test drives the run and checks each artefact through a helper: under xdist a session
fixture shared by several tests would run once per worker, doubling the slowest test.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadtests.targets import free_port
from observability import runtime, snapshot
from tests.observability.tools import binary

pytestmark = pytest.mark.slow


@dataclass
class Run:
    folder: Path
    output: str
    prometheus: str
    start: float
    end: float


@pytest.fixture
def api_mix_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    binary("prometheus")
    base = tmp_path_factory.mktemp("loadtest")
    server_port, locust_port, prom_port = free_port(), free_port(), free_port()
    env = dict(
        os.environ,
        STACKYARD_LOADTEST_SERVER_PORT=str(server_port),
        STACKYARD_EMBEDDED_WORKER="false",
    )
    with runtime.running(
        base,
        apps=[f"127.0.0.1:{server_port}"],
        locust=[f"127.0.0.1:{locust_port}"],
        port=prom_port,
        scrape_interval="1s",
    ) as prometheus:
        start = time.time()
        result = subprocess.run(
            [sys.executable, "-m", "apps.cli", "loadtest", "api-mix", "--users", "5",
             "--spawn-rate", "5", "--duration", "10s", "--results", str(base / "results"),
             "--metrics-port", str(locust_port), "--linger", "2"],
            env=env, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        time.sleep(2)
        end = time.time()
        (folder,) = (base / "results").iterdir()
        yield Run(folder, result.stdout, prometheus.url, start, end)


def check_run_writes_locust_csvs(api_mix_run: Run) -> None:
    with (api_mix_run.folder / "locust_stats.csv").open() as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    assert int(rows["Aggregated"]["Request Count"]) >= 10
    assert int(rows["/auth/login"]["Request Count"]) == 5
    assert int(rows["/auth/login"]["Failure Count"]) == 0
    assert (api_mix_run.folder / "locust_stats_history.csv").stat().st_size > 0


def check_run_writes_a_png_and_a_summary(api_mix_run: Run) -> None:
    assert (api_mix_run.folder / "report.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((api_mix_run.folder / "summary.json").read_text())
    assert summary["scenario"] == "api-mix" and summary["host"] == "self-started"
    assert summary["users"] == 5 and summary["duration_s"] == 10
    assert summary["requests"] >= 10
    assert summary["latency_ms"]["p95"] is not None
    assert isinstance(summary["load_generator_cpu_bound"], bool)
    assert "report.png" in api_mix_run.output


def check_prometheus_holds_the_runs_locust_and_server_series(api_mix_run: Run) -> None:
    at = api_mix_run.end
    sent = runtime.query(
        api_mix_run.prometheus,
        'max_over_time(locust_requests_total{scenario="api-mix",name="Aggregated"}[5m])',
        at,
    )
    assert sent and float(sent[0]["value"][1]) >= 10
    served = runtime.query(
        api_mix_run.prometheus,
        'sum(max_over_time(stackyard_requests_total{service="auth",path="/auth/login"}[5m]))',
        at,
    )
    assert served and float(served[0]["value"][1]) == 5


def check_snapshot_renders_the_loadtest_dashboard_with_data(
    api_mix_run: Run, tmp_path: Path
) -> None:
    shot = snapshot.render(
        api_mix_run.prometheus, "loadtest", api_mix_run.start, api_mix_run.end,
        tmp_path / "loadtest.png", scrape_interval=1,
    )  # fmt: skip
    assert shot.path.read_bytes()[:4] == b"\x89PNG"
    assert not [p.errors for p in shot.panels if p.errors]
    with_data = set(shot.panels_with_data)
    assert {
        "Users",
        "Requests/s by request (Locust)",
        "Response time percentiles (Locust)",
        "Requests/s by app (server)",
        "Latency p50 / p95 (server)",
    } <= with_data


def check_snapshot_of_the_platform_dashboard_shows_the_auth_app(
    api_mix_run: Run, tmp_path: Path
) -> None:
    shot = snapshot.render(
        api_mix_run.prometheus, "platform", api_mix_run.start, api_mix_run.end,
        tmp_path / "platform.png", scrape_interval=1,
    )  # fmt: skip
    assert {"Requests/s by app", "Latency by app (p50, p95, p99)", "Requests/s by route"} <= set(
        shot.panels_with_data
    )


def test_api_mix_run_leaves_csvs_png_summary_and_prometheus_series(
    api_mix_run: Run, tmp_path: Path
) -> None:
    check_run_writes_locust_csvs(api_mix_run)
    check_run_writes_a_png_and_a_summary(api_mix_run)
    check_prometheus_holds_the_runs_locust_and_server_series(api_mix_run)
    check_snapshot_renders_the_loadtest_dashboard_with_data(api_mix_run, tmp_path)
    check_snapshot_of_the_platform_dashboard_shows_the_auth_app(api_mix_run, tmp_path)
