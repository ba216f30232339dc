"""A real server (uvicorn, in a thread) of the notifications app on the test stack.

Streams need one: Litestar's test client buffers a whole response, so it cannot follow SSE.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

LIVE_ENV = {
    "NOTIFICATIONS_POLL_INTERVAL": "0.5",
    "NOTIFICATIONS_ALERTMANAGER_TOKEN": "alertmanager-test-secret-0123456789",
}


class LiveServer:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10)


@pytest.fixture(scope="session")
def live(stack: Any) -> Iterator[LiveServer]:
    from apps.gateway import create_app

    saved = {key: os.environ.get(key) for key in LIVE_ENV}
    os.environ.update(LIVE_ENV)
    app = create_app(["notifications"])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-notifications", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the notifications server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
