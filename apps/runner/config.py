"""Settings of the code runner, read from the environment (tests shorten them)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _slots_dir(uid_base: int) -> Path:
    """Slot locks are host-wide, like the uids they hand out: every server, worker and test
    process on the host must share them, whatever its data dir (RUNNER_SLOTS_DIR overrides)."""
    configured = os.environ.get("RUNNER_SLOTS_DIR", "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(tempfile.gettempdir()) / f"stackyard-runner-slots-{uid_base}"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


@dataclass(frozen=True)
class RunnerConfig:
    backend: str
    """`auto` (bubblewrap, else docker), `bubblewrap` or `docker`."""
    concurrency: int
    """Sandboxes at once per worker; never more than the core count."""
    uid_base: int
    """Sandbox slot N runs as host uid/gid uid_base + N, so RLIMIT_NPROC counts per slot."""
    python: str
    node: str
    docker: str
    nice: int
    slots_dir: Path
    slot_wait_s: float

    @classmethod
    def from_env(cls) -> RunnerConfig:
        cores = os.cpu_count() or 1
        return cls(
            backend=os.environ.get("RUNNER_BACKEND", "auto").strip() or "auto",
            concurrency=max(1, min(cores, _env_int("RUNNER_CONCURRENCY", cores))),
            uid_base=_env_int("RUNNER_UID_BASE", 61000),
            python=os.environ.get("RUNNER_PYTHON", "/usr/bin/python3"),
            node=os.environ.get("RUNNER_NODE", "/usr/bin/node"),
            docker=os.environ.get("RUNNER_DOCKER", "docker"),
            nice=_env_int("RUNNER_NICE", 10),
            slots_dir=_slots_dir(_env_int("RUNNER_UID_BASE", 61000)),
            slot_wait_s=float(os.environ.get("RUNNER_SLOT_WAIT_S", "60")),
        )
