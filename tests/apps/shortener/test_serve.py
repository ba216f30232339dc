"""`stackyard serve --app shortener` over TCP: root redirects, and no visit lost on SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3

import httpx
import pytest

from tests.support.servers import live_server

pytestmark = pytest.mark.slow


def test_counted_visits_survive_a_clean_shutdown(tmp_path):
    # Nothing is pushed or flushed on a timer during the test: only the shutdown saves them.
    env = {
        "DATABASE_URL": "",  # the embedded defaults, whatever stack the session runs
        "REDIS_URL": "",
        "SHORTENER_PUSH_INTERVAL_MS": "60000",
        "SHORTENER_FLUSH_INTERVAL": "3600",
        "SHORTENER_LOCAL_CACHE_TTL": "60",
    }
    with live_server(tmp_path, env=env, args=("--app", "shortener")) as server:
        created = httpx.post(f"{server.url}/shortener/links", json={"url": "https://example.com/"})
        assert created.status_code == 201, created.text
        code = created.json()["code"]
        with httpx.Client(base_url=server.url) as http:
            statuses = {http.get(f"/{code}").status_code for _ in range(250)}
            assert statuses == {302}
            assert http.get("/health").status_code == 200
            assert http.get("/shortener/links").status_code == 401
        os.killpg(server.process.pid, signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
    with sqlite3.connect(tmp_path / "stackyard.sqlite3") as connection:
        visits = connection.execute(
            "SELECT visits FROM shortener_link WHERE code = ?", (code,)
        ).fetchone()[0]
        days = connection.execute(
            "SELECT SUM(count) FROM shortener_visit_count WHERE dimension = 'day'"
        ).fetchone()[0]
    assert visits == 250
    assert days == 250
