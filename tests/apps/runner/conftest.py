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

# Sandbox slots (uids, their locks and cgroups) are host-wide. Each pytest-xdist worker gets
# its own uid range, so one worker's "no process left under the slot uids" checks never see
# the other worker's sandboxes. Set at import, before any RunnerConfig or server is made.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
os.environ.setdefault(
    "RUNNER_UID_BASE", str(61000 + 100 * (int(_WORKER) if _WORKER.isdigit() else 0))
)

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
        _wait_for_sandboxes_to_end()


def _wait_for_sandboxes_to_end(timeout_s: float = 30) -> None:
    """Executions run on a background pool: let them end before the next test counts processes."""
    import time

    from apps.runner.sandbox.bubblewrap import uid_processes

    config = RunnerConfig.from_env()
    uids = range(config.uid_base, config.uid_base + config.concurrency)
    deadline = time.monotonic() + timeout_s
    while any(uid_processes(uid) for uid in uids) and time.monotonic() < deadline:
        time.sleep(0.1)
