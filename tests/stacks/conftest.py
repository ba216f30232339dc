"""Each environment's program runs once per test session (in its own interpreter, under
Pulumi's mocks); the recordings are shared by every policy test, across xdist workers too."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from stacks.config import ENVIRONMENTS, StackConfig, config_from_file
from stacks.simulate import Simulation, simulate_in_subprocess


def _session_dir() -> Path:
    # xdist workers of one run share PYTEST_XDIST_TESTRUNUID; a plain run keys on its pid.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    path = Path(tempfile.gettempdir()) / "stackyard-stack-simulations" / run
    path.mkdir(parents=True, exist_ok=True)
    return path


def _recorded(env: str, folder: Path) -> Simulation:
    target = folder / f"{env}.json"
    with (folder / f"{env}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            target.write_text(simulate_in_subprocess(env).to_json())
    return Simulation.from_json(target.read_text())


@pytest.fixture(scope="session")
def simulations() -> Iterator[dict[str, Simulation]]:
    folder = _session_dir()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(
            zip(ENVIRONMENTS, pool.map(lambda e: _recorded(e, folder), ENVIRONMENTS), strict=True)
        )
    yield results


@pytest.fixture(scope="session")
def configs() -> dict[str, StackConfig]:
    return {env: config_from_file(env) for env in ENVIRONMENTS}
