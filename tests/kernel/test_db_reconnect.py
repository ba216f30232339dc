"""A database restart costs one request per pool a 503, never a 500, and the pool recovers.

The engines do not pre-ping connections (three round trips per checkout on asyncpg); this is
the behaviour that choice relies on. Only the connections of an app instance made for this
test are terminated, so the other tests' pools on the same database are not touched.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from litestar.testing import TestClient

from apps.gateway import create_app
from tests.support import real_services


async def _admin(query: str, *args: object) -> list[asyncpg.Record]:
    admin = await asyncpg.connect(
        host=real_services.PG_HOST,
        port=real_services.PG_PORT,
        user=real_services.PG_USER,
        database="postgres",
    )
    try:
        return await admin.fetch(query, *args)
    finally:
        await admin.close()


def _backends(database: str) -> set[int]:
    rows = asyncio.run(_admin("SELECT pid FROM pg_stat_activity WHERE datname = $1", database))
    return {row["pid"] for row in rows}


def test_dropped_connections_answer_503_once_then_recover(stack, user):
    if not stack.real:
        pytest.skip("SQLite has no server connections to lose")
    database = stack.env["DATABASE_URL"].rsplit("/", 1)[-1]
    before = _backends(database)
    with TestClient(create_app(), base_url="http://127.0.0.1") as own:
        created = own.post("/todo/tasks", json={"title": "before"}, headers=user.headers)
        assert created.status_code == 201, created.text
        ours = _backends(database) - before
        assert ours, "the request opened no connection of its own"
        asyncio.run(_admin("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", ours))
        first = own.get("/todo/tasks", headers=user.headers)
        assert first.status_code == 503, first.text
        assert first.headers["retry-after"] == "1"
        assert first.headers["content-type"].startswith("application/problem+json")
        again = own.get("/todo/tasks", headers=user.headers)
        assert again.status_code == 200 and again.json()["items"][0]["title"] == "before"
