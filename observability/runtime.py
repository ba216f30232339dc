"""A local Prometheus on the project's config and rules, pointed at real targets.

The committed `prometheus/prometheus.yml` names the single-node default targets; this renders
a runtime copy with the targets actually running (a `stackyard serve`, a load test's Locust,
any exporter given) into the data dir, and runs Debian's `prometheus` binary on it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

PROMETHEUS_DIR = Path(__file__).resolve().parent / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULE_FILES = (PROMETHEUS_DIR / "rules" / "recording.yml", PROMETHEUS_DIR / "rules" / "alerts.yml")
APPS_JOB = "stackyard-apps"
LOCUST_JOB = "locust"
DEFAULT_LOCUST_TARGET = "127.0.0.1:9646"


class PrometheusMissingError(RuntimeError):
    """Debian's `prometheus` package is not installed (`make observe-deps` installs it)."""


def host_port(target: str) -> str:
    """`http://127.0.0.1:8000/` or `127.0.0.1:8000` -> `127.0.0.1:8000`."""
    if "://" in target:
        parts = urlsplit(target)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"{parts.hostname}:{port}"
    return target.strip().rstrip("/")


def render_config(
    *,
    apps: Sequence[str],
    locust: Sequence[str] = (),
    extra: Mapping[str, Sequence[str]] | None = None,
    listen: str = "127.0.0.1:9090",
    scrape_interval: str | None = None,
    alertmanager: str | None = None,
) -> dict[str, Any]:
    """The committed config with only the jobs that have real targets, rules by absolute path.

    `extra` maps other job names of the committed config (celery, redis, node, ...) to targets.
    """
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    wanted: dict[str, list[str]] = {
        APPS_JOB: [host_port(t) for t in apps],
        LOCUST_JOB: [host_port(t) for t in locust],
        "prometheus": [listen],
    }
    known = {job["job_name"] for job in config["scrape_configs"]}
    for job, targets in (extra or {}).items():
        if job not in known:
            raise ValueError(f"unknown job {job!r}; the config has {', '.join(sorted(known))}")
        wanted[job] = [host_port(t) for t in targets]
    jobs = []
    for job in config["scrape_configs"]:
        targets = wanted.get(job["job_name"], [])
        if not targets:
            continue
        labels = job["static_configs"][0].get("labels") if job.get("static_configs") else None
        job["static_configs"] = [{"targets": targets, **({"labels": labels} if labels else {})}]
        jobs.append(job)
    config["scrape_configs"] = jobs
    config["rule_files"] = [str(path) for path in RULE_FILES]
    if scrape_interval:
        config["global"]["scrape_interval"] = scrape_interval
        config["global"]["evaluation_interval"] = scrape_interval
        for job in jobs:
            job.pop("scrape_interval", None)
    if alertmanager:
        config["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": [host_port(alertmanager)]}]}]
        }
    else:
        config.pop("alerting", None)
    return config


def write_config(folder: Path, config: Mapping[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "prometheus.yml"
    path.write_text(
        "# Rendered by `stackyard observe` from observability/prometheus/prometheus.yml; "
        "do not edit.\n" + yaml.safe_dump(dict(config), sort_keys=False)
    )
    return path


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if not found:
        raise PrometheusMissingError(
            "prometheus is not installed; run `make observe-deps` (Debian package `prometheus`)"
        )
    return found


@dataclass
class LocalPrometheus:
    url: str
    config: Path
    process: subprocess.Popen[bytes]
    log: Path


def start(
    config: Path, storage: Path, *, port: int = 9090, retention: str = "15d"
) -> LocalPrometheus:
    """Start Prometheus on 127.0.0.1:`port` with `config`, storage in `storage`."""
    storage.mkdir(parents=True, exist_ok=True)
    log = storage.parent / "prometheus.log"
    handle = log.open("ab")
    process = subprocess.Popen(
        [
            prometheus_binary(),
            f"--config.file={config}",
            f"--storage.tsdb.path={storage}",
            f"--storage.tsdb.retention.time={retention}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    return LocalPrometheus(f"http://127.0.0.1:{port}", config, process, log)


def wait_ready(prometheus: LocalPrometheus, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if prometheus.process.poll() is not None:
            tail = prometheus.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"prometheus exited ({prometheus.process.returncode}):\n{tail}")
        try:
            if httpx.get(f"{prometheus.url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus did not become ready at {prometheus.url} in {timeout:.0f} s")


def stop(prometheus: LocalPrometheus) -> None:
    if prometheus.process.poll() is None:
        prometheus.process.terminate()
        try:
            prometheus.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            prometheus.process.kill()
            prometheus.process.wait()


@contextmanager
def running(
    data_dir: Path,
    *,
    apps: Sequence[str],
    locust: Sequence[str] = (),
    extra: Mapping[str, Sequence[str]] | None = None,
    port: int = 9090,
    scrape_interval: str | None = None,
) -> Iterator[LocalPrometheus]:
    """Render the runtime config into `data_dir/prometheus/`; Prometheus runs for the block."""
    folder = data_dir / "prometheus"
    config = render_config(
        apps=apps,
        locust=locust,
        extra=extra,
        listen=f"127.0.0.1:{port}",
        scrape_interval=scrape_interval,
    )
    prometheus = start(write_config(folder, config), folder / "data", port=port)
    try:
        wait_ready(prometheus)
        yield prometheus
    finally:
        stop(prometheus)


def query(url: str, expr: str, at: float | None = None) -> list[dict[str, Any]]:
    """An instant query against Prometheus's HTTP API; the result vector."""
    params: dict[str, str] = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    response = httpx.get(f"{url}/api/v1/query", params=params, timeout=30)
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result


def query_range(url: str, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
    """A range query; the result matrix (one entry per series, `values` as [t, "v"] pairs)."""
    response = httpx.post(
        f"{url}/api/v1/query_range",
        data={"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"},
        timeout=60,
    )
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result
