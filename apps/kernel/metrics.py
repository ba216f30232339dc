"""Prometheus metrics at /metrics (prometheus-client, served by Litestar's controller).

Requests are labelled by route template (`/blog/articles/{article_id:uuid}`), never the raw
path, and by `service`, the first path segment, so dashboards can show each app's RED. The
kernel's telemetry middleware (apps/kernel/telemetry.py) records them.
With several worker processes, PROMETHEUS_MULTIPROC_DIR is set and wiped by `serve` first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge, Histogram

METRICS_PREFIX = "stackyard"
EXCLUDED = ("/metrics", "/health", "/ready", "/schema")
"""Paths (and their subpaths) left out of the request metrics: probes and scrapes."""
LABELS = ("method", "path", "status_code", "app_name", "service")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(f"{METRICS_PREFIX}_requests_total", "Total requests", LABELS)
ERRORS = Counter(f"{METRICS_PREFIX}_requests_error_total", "Total errors in requests", LABELS)
DURATION = Histogram(
    f"{METRICS_PREFIX}_request_duration_seconds",
    "Request duration, in seconds",
    LABELS,
    buckets=BUCKETS,
)
IN_PROGRESS = Gauge(
    f"{METRICS_PREFIX}_requests_in_progress",
    "Total requests currently in progress",
    LABELS,
    multiprocess_mode="livesum",
)


def service_of(path: str) -> str:
    """The app a path belongs to: its first segment (`root` for `/`)."""
    return path.strip("/").split("/", 1)[0] or "root"


def is_excluded(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in EXCLUDED)


class RequestMetrics:
    """The request series (names and labels as Litestar's Prometheus plugin has them), with
    each label set's children looked up once: `.labels()` costs more than the update."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, ...], tuple[Any, Any, Any | None]] = {}
        self._running: dict[tuple[str, ...], Any] = {}

    def started(self, method: str, template: str, service: str) -> Any:
        """The in-progress gauge child of a request (labelled status 200, as the plugin did),
        already incremented; decrement it when the request ends."""
        key = (method, template, "200", METRICS_PREFIX, service)
        gauge = self._running.get(key)
        if gauge is None:
            gauge = self._running[key] = IN_PROGRESS.labels(*key)
        gauge.inc()
        return gauge

    def finished(
        self, method: str, template: str, status: int, service: str, seconds: float
    ) -> None:
        key = (method, template, str(status), METRICS_PREFIX, service)
        children = self._done.get(key)
        if children is None:
            error = ERRORS.labels(*key) if status >= 500 else None
            children = self._done[key] = (REQUESTS.labels(*key), DURATION.labels(*key), error)
        children[0].inc()
        children[1].observe(seconds)
        if children[2] is not None:
            children[2].inc()


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def prepare_multiprocess_dir(folder: Path) -> None:
    """Wipe and point prometheus-client at a fresh multiprocess folder (before workers fork)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
