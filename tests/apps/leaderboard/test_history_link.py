"""The intake's held Postgres connection: replaced when the server closed it, dropped after a
failed call (whose submissions are 503 and safe to retry with their key), released when the
loop's engines are disposed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from litestar.testing import TestClient

from apps.kernel import db
from apps.kernel.errors import ServiceUnavailable
from apps.leaderboard import submissions
from apps.leaderboard.services import find_game
from tests.apps.leaderboard.helpers import make_game, run
from tests.conftest import Account, Stack
from tests.support import real_services


async def _connect(stack: Stack, database: str | None = None) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=real_services.PG_HOST,
        port=real_services.PG_PORT,
        user=real_services.PG_USER,
        database=database or stack.env["DATABASE_URL"].rsplit("/", 1)[-1],
    )


@pytest.fixture
def slug(stack: Stack, client: TestClient[Any], admin: Account) -> str:
    if not stack.real:
        pytest.skip("the held connection is Postgres's (SQLite has no server to lose)")
    return make_game(client, admin)


def test_a_connection_the_server_closed_while_idle_is_replaced(stack: Stack, slug: str) -> None:
    async def scenario() -> None:
        game = await find_game(slug)
        intake = submissions.Intake()
        await submissions.submit_score(game, uuid.uuid4(), "Ann", 5, None, into=intake)
        (link,) = intake.links
        held = link.driver
        pid = await held.fetchval("SELECT pg_backend_pid()")
        admin = await _connect(stack, "postgres")
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        for _ in range(100):  # the loop sees the server's goodbye
            if held.is_closed():
                break
            await asyncio.sleep(0.02)
        assert held.is_closed()
        again = await submissions.submit_score(game, uuid.uuid4(), "Bob", 7, None, into=intake)
        assert again.indexed and link.driver is not held
        await intake.release()

    run(scenario)


def test_a_failed_call_answers_503_drops_the_connection_and_a_retry_stores_once(
    stack: Stack, slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(submissions, "STORE_TIMEOUT", 0.5)
    player = uuid.uuid4()

    async def scenario() -> None:
        game = await find_game(slug)
        intake = submissions.Intake()
        await submissions.submit_score(game, player, "Ann", 1, None, into=intake)
        held = intake.links[0].driver
        blocker = await _connect(stack)
        try:
            async with blocker.transaction():
                await blocker.execute("LOCK TABLE leaderboard_score IN EXCLUSIVE MODE")
                with pytest.raises(ServiceUnavailable, match="idempotency_key"):
                    await submissions.submit_score(game, player, "Ann", 9, "k-1", into=intake)
                assert held.is_closed()  # its state after a cancelled statement is unknown
            retried = await submissions.submit_score(game, player, "Ann", 9, "k-1", into=intake)
            assert retried.score == 9
            stored = await blocker.fetchval(
                "SELECT count(*) FROM leaderboard_score WHERE user_id = $1 AND idempotency_key "
                "= 'k-1'",
                player,
            )
            assert stored == 1
        finally:
            await blocker.close()
            await intake.release()

    run(scenario)


def test_disposing_the_engines_returns_the_held_connection(stack: Stack, slug: str) -> None:
    async def scenario() -> None:
        game = await find_game(slug)
        await submissions.submit_score(game, uuid.uuid4(), "Ann", 3, None)
        held = submissions.intake().links[0].driver
        assert not held.is_closed()
        await db.dispose_engines()
        assert held.is_closed() and submissions.intake().links == []

    run(scenario)
