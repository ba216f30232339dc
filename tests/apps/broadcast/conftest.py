"""Real `broadcast-server start` processes, with every timeout shortened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

SHORT = {
    "BROADCAST_SHUTDOWN_GRACE": "1",
    "BROADCAST_PING_INTERVAL": "1",
    "BROADCAST_PING_TIMEOUT": "1",
}


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@contextmanager
def broadcast_server(*args: str, port: int = 0, timeout: float = 15) -> Iterator[Server]:
    env = {**os.environ, **SHORT}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.broadcast.cli", "start", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        assert process.stdout is not None
        line = process.stdout.readline()
        while not line.startswith("listening on "):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {line}{process.stdout.read()}")
            line = process.stdout.readline()
        yield Server(url=line.removeprefix("listening on ").strip(), process=process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    opened = []

    def start(*args: str, port: int = 0) -> Server:
        context = broadcast_server(*args, port=port)
        opened.append(context)
        return context.__enter__()

    yield start
    for context in reversed(opened):
        context.__exit__(None, None, None)
