"""The Celery pipeline: a task is pending until a worker runs it, on every broker we support."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from celery import Celery

from apps.kernel.settings import load_settings
from apps.kernel.tasks import celery_config
from tests.support import real_services


@pytest.fixture(params=["filesystem", "redis"])
def broker_env(request, tmp_path) -> Iterator[dict[str, str]]:
    env = {"STACKYARD_DATA_DIR": str(tmp_path)}
    index = None
    if request.param == "redis":
        problem = real_services.unreachable()
        if problem:
            if os.environ.get("CI") == "true":
                pytest.fail(f"real services unreachable under CI: {problem}")
            pytest.skip(f"real services unreachable: {problem}")
        index = real_services.claim_redis_index()
        env["CELERY_BROKER_URL"] = f"{real_services.REDIS_BASE}/{index}"
    yield env
    if index is not None:
        real_services.release_redis_index(index)


@pytest.mark.slow
def test_a_task_waits_for_a_worker_and_then_runs(broker_env, monkeypatch):
    for key, value in broker_env.items():
        monkeypatch.setenv(key, value)
    producer = Celery("stackyard-test", config_source=celery_config(load_settings()))
    result = producer.send_task("kernel.echo", args=["hello"])
    time.sleep(0.3)
    assert result.state == "PENDING"  # nothing runs it until a worker starts
    env = dict(os.environ, **broker_env)
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.cli", "worker", "--concurrency", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        value = result.get(timeout=60)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    assert value["value"] == "hello"
    assert result.state == "SUCCESS"
