"""Prometheus metrics at /metrics (Litestar's Prometheus plugin on prometheus-client).

Requests are labelled by route template (`/blog/articles/{article_id:uuid}`), never the raw
path, and by `service`, the first path segment, so dashboards can show each app's RED.
With several worker processes, PROMETHEUS_MULTIPROC_DIR is set and wiped by `serve` first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

METRICS_PREFIX = "stackyard"
EXCLUDED = ["^/metrics", "^/health", "^/ready", "^/schema"]


def _service(request: Request[Any, Any, Any]) -> str:
    segment = request.url.path.strip("/").split("/", 1)[0]
    return segment or "root"


def prometheus_config() -> PrometheusConfig:
    return PrometheusConfig(
        app_name="stackyard",
        prefix=METRICS_PREFIX,
        group_path=True,
        exclude=EXCLUDED,
        labels={"service": _service},
        buckets=[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
    )


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def prepare_multiprocess_dir(folder: Path) -> None:
    """Wipe and point prometheus-client at a fresh multiprocess folder (before workers fork)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
