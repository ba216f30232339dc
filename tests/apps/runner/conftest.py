"""Runner fixtures: a bubblewrap sandbox with short limits, skipped where none can run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.runner.config import RunnerConfig
from apps.runner.limits import MIB, Limits
from apps.runner.sandbox import SandboxUnavailable
from apps.runner.sandbox.bubblewrap import BubblewrapSandbox

SHORT = Limits(
    cpu_time_s=1.0,
    wall_time_s=3.0,
    memory_bytes=128 * MIB,
    processes=20,
    file_size_bytes=1 * MIB,
    output_bytes=64 * 1024,
)


@pytest.fixture(scope="session")
def runner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runner")


@pytest.fixture(scope="session")
def sandbox(runner_dir: Path) -> Iterator[BubblewrapSandbox]:
    saved = os.environ.get("STACKYARD_DATA_DIR")
    os.environ["STACKYARD_DATA_DIR"] = str(runner_dir)
    config = RunnerConfig.from_env()
    if saved is None:
        os.environ.pop("STACKYARD_DATA_DIR", None)
    else:
        os.environ["STACKYARD_DATA_DIR"] = saved
    box = BubblewrapSandbox(config)
    try:
        box.check()
    except SandboxUnavailable as exc:
        pytest.skip(f"no bubblewrap sandbox on this machine: {exc}")
    yield box


@pytest.fixture
def eager_runner(stack) -> Iterator[None]:
    """Executions run on the local bounded pool as soon as they are submitted."""
    from apps.kernel.tasks import celery_app
    from apps.runner.sandbox import select_sandbox

    try:
        select_sandbox()
    except SandboxUnavailable as exc:
        pytest.skip(f"no sandbox on this machine: {exc}")
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = saved
