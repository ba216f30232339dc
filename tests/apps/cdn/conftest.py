"""One real local CDN (`stackyard cdn up`, 2 edges) shared by the whole test session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apps.cdn.control import CdnState, missing_binaries

SESSION_CACHE_BYTES = 1024 * 1024  # per edge: the 300-object catalogue is ~7 MB, over 3x both
SESSION_OBJECTS = 300


@dataclass
class RunningCdn:
    front: str
    origin: str
    edges: dict[str, str]
    folder: Path
    process: subprocess.Popen[str]

    def state(self) -> CdnState:
        return CdnState.load(self.folder)


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} -- not allowed under CI=true (run `make cdn-deps`)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cdn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCdn]:
    if missing := missing_binaries():
        _skip_or_fail(f"nginx/HAProxy missing ({' '.join(missing)}): `make cdn-deps`")
    folder = tmp_path_factory.mktemp("cdn")
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.cli", "cdn", "up", "--edges", "2",
         "--objects", str(SESSION_OBJECTS), "--cache-size", str(SESSION_CACHE_BYTES),
         "--latency-scale", "0.05", "--lb", "uri-consistent", "--state-dir", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    lines: dict[str, str] = {}
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while "origin" not in lines:
        line = process.stdout.readline()
        if not line:
            stderr = process.stderr.read() if process.stderr else ""
            pytest.fail(f"`cdn up` exited before serving:\n{stderr[-3000:]}")
        name, _, url = line.strip().partition(" ")
        lines[name] = url
        if time.monotonic() > deadline:
            pytest.fail("`cdn up` did not report its components in time")
    try:
        yield RunningCdn(
            front=lines["front"],
            origin=lines["origin"],
            edges={k: v for k, v in lines.items() if k.startswith("edge-")},
            folder=folder,
            process=process,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def admin_token() -> str:
    """A signed admin access token (JWT is stateless: the origin shares JWT_SECRET)."""
    from litestar.security.jwt import Token

    token = Token(
        sub=str(uuid.uuid4()),
        exp=datetime.now(UTC) + timedelta(minutes=10),
        extras={"email": "cdn-admin@example.com", "name": "CDN admin", "role": "admin"},
    )
    return token.encode(os.environ["JWT_SECRET"], "HS256")


def cache_manager_started(master_pid: int) -> float:
    """Epoch seconds at which the nginx master's cache manager process started (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    boot = next(
        float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
        if line.startswith("btime")
    )  # fmt: skip
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == master_pid and b"cache manager" in cmdline:
            return boot + int(fields[19]) / ticks
    raise AssertionError(f"nginx {master_pid} has no cache manager process")
