"""Real `stackyard serve` processes for tests that need a server over TCP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[str]


@contextmanager
def live_server(
    data_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
    migrate: bool = True,
    timeout: float = 60,
) -> Iterator[LiveServer]:
    """Migrate `data_dir` and run `stackyard serve` on a free port until the block ends."""
    port = free_port()
    full_env = {**os.environ, "STACKYARD_DATA_DIR": str(data_dir), **(env or {})}
    if migrate:
        subprocess.run(
            [sys.executable, "-m", "apps.cli", "migrate"],
            env=full_env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.cli", "serve", "--port", str(port), *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"server exited early:\n{process.stdout.read() if process.stdout else ''}"
                )
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer /health in time")
            time.sleep(0.2)
        yield LiveServer(url=url, data_dir=data_dir, process=process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
