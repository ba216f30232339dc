"""Targets a scenario can load: here, a `stackyard serve` the harness starts and stops itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def self_started_server(
    env: Mapping[str, str] | None = None,
    apps: Sequence[str] = (),
    timeout: float = 90,
) -> Iterator[str]:
    """Migrate a fresh data dir and serve the apps on a free port; yields the base URL.

    With no DATABASE_URL/REDIS_URL in the environment this is the embedded defaults (SQLite,
    in-process Redis fake); with them set, the same server runs on the real services. The
    server log is kept in `$STACKYARD_LOADTEST_SERVER_LOG` when set (the runner sets it);
    `$STACKYARD_LOADTEST_SERVER_PORT` fixes the port, so a Prometheus can be pointed at it.
    """
    with tempfile.TemporaryDirectory(prefix="stackyard-loadtest-") as data_dir:
        full_env = dict(os.environ, STACKYARD_DATA_DIR=data_dir, **(env or {}))
        subprocess.run(
            [sys.executable, "-m", "apps.cli", "migrate"],
            env=full_env,
            check=True,
            capture_output=True,
            timeout=180,
        )
        port = int(os.environ.get("STACKYARD_LOADTEST_SERVER_PORT") or 0) or free_port()
        log_path = Path(
            os.environ.get("STACKYARD_LOADTEST_SERVER_LOG", Path(data_dir) / "serve.log")
        )
        log_path.parent.mkdir(parents=True, exist_ok=True)
        app_args = [arg for name in apps for arg in ("--app", name)]
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "apps.cli", "serve", "--port", str(port), *app_args],
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(process, url, timeout, log_path)
            yield url
        finally:
            _stop(process)


def _wait_healthy(process: subprocess.Popen[bytes], url: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not answer /health within {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
