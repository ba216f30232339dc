"""The Prometheus toolchain binaries the tests drive; skipped loudly when missing, not on CI."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families


def binary(name: str, package: str = "prometheus") -> str:
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (Debian package {package}; `make observe-deps`)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " -- not allowed under CI=true")
    pytest.skip(message)


def run(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False
    )


def exported_names() -> set[str]:
    """Every sample name the apps' /metrics serves, from a Litestar app on the kernel's config.

    The app mounts one route of an app and the kernel's metrics controller and middleware,
    exactly as the gateway does, and answers one request so request series exist.
    """
    from litestar import Litestar, get
    from litestar.testing import TestClient

    from apps.kernel.metrics import MetricsController
    from apps.kernel.telemetry import telemetry_middleware

    @get("/blog/articles", sync_to_thread=False)
    def articles() -> list[str]:
        return []

    app = Litestar(route_handlers=[articles, MetricsController], middleware=[telemetry_middleware])
    with TestClient(app) as client:
        assert client.get("/blog/articles").status_code == 200
        text = client.get("/metrics").text
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }
