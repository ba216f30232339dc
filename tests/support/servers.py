"""Real `stackyard serve` processes for tests that need a server over TCP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
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
    log_path: Path
    """Everything the server printed (a file, so a chatty server never blocks on a full pipe)."""

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def errors(self) -> list[str]:
        """The server's error log lines (JSON lines with level error)."""
        return [line for line in self.output().splitlines() if '"level": "error"' in line]


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
    log_path = data_dir / f"serve-{port}.log"
    log_file = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.cli", "serve", "--port", str(port), *args],
        env=full_env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer /health in time")
            time.sleep(0.2)
        yield LiveServer(url=url, data_dir=data_dir, process=process, log_path=log_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        # Whatever is left of the session (a server worker that outlived its master under
        # load was found orphaned after test runs) goes too: nothing may outlive the test.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        log_file.close()
