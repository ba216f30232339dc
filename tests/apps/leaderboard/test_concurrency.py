"""50 submissions at once for the same players: ranks equal a sequential replay, none lost."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from apps.kernel import db
from apps.kernel.cache import get_redis
from apps.leaderboard import boards, submissions
from apps.leaderboard.models import Score
from apps.leaderboard.services import find_game
from tests.apps.leaderboard.helpers import board_contents, make_game, run
from tests.conftest import Account


@pytest.mark.parametrize("batch_size", [submissions.MAX_BATCH, 3], ids=["one-batch", "overlapping"])
def test_concurrent_submissions_match_a_sequential_replay(
    client: TestClient[Any], admin: Account, batch_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With batches of 3, the 50 submissions are stored by several overlapping transactions
    # and must still reach Redis in arrival order.
    monkeypatch.setattr(submissions, "MAX_BATCH", batch_size)
    if batch_size < 50:
        # Transactions finishing out of order must not reorder what Redis sees.
        store = submissions.Intake._store
        delays = random.Random(7)

        async def slow_store(self: submissions.Intake, items: Any) -> Any:
            await asyncio.sleep(delays.random() / 50)
            return await store(self, items)

        monkeypatch.setattr(submissions.Intake, "_store", slow_store)
    slugs = [
        make_game(client, admin, operator="best"),
        make_game(client, admin, operator="sum"),
        make_game(client, admin, operator="latest", sort_order="low_first"),
    ]
    players = [(uuid.uuid4(), f"Racer {i}") for i in range(5)]
    rng = random.Random(40)

    async def scenario() -> None:
        games = [await find_game(slug) for slug in slugs]
        for game in games:
            calls = [
                submissions.submit_score(game, *players[i % 5], rng.randint(0, 20), None)
                for i in range(50)
            ]
            accepted = await asyncio.gather(*calls)
            assert len({a.id for a in accepted}) == 50 and all(a.indexed for a in accepted)
        async with db.session() as session:
            for game in games:
                stored = await session.scalar(
                    select(func.count()).select_from(Score).where(Score.game_id == game.id)
                )
                assert stored == 50, "a submission was lost"
                rows = await session.execute(
                    select(Score.id, Score.user_id, Score.score, Score.submitted_at)
                    .where(Score.game_id == game.id)
                    .order_by(Score.submitted_at, Score.id)
                )
                replay = boards.Replay.start()
                for row in rows:
                    replay.feed(
                        game.index,
                        boards.Submission(
                            row.id.hex,
                            str(row.user_id),
                            "",
                            row.score,
                            boards.micros(row.submitted_at),
                        ),
                    )
                base = boards.board_base(game.id.hex)
                in_redis = await board_contents(base)
                expected = replay.ranking(base)
                assert [(m[17:], s * game.index.sign) for m, s in in_redis] == expected
                assert sorted(in_redis) == sorted(
                    (member, score) for _u, score, member in replay.zset_entries(base)
                )
                # Each player's hash entry holds the tie and standing the sorted set has.
                assert await get_redis().hgetall(f"{base}:m") == replay.hash_entries(base)
            # The global board's tie is the time of the player's latest change, so it holds
            # only if every player's submissions reached Redis in time order.
            by_id = {game.id: game for game in games}
            rows = await session.execute(
                select(Score.id, Score.game_id, Score.user_id, Score.score, Score.submitted_at)
                .where(Score.game_id.in_(list(by_id)))
                .order_by(Score.submitted_at, Score.id)
            )
            replay = boards.Replay.start()
            for row in rows:
                replay.feed(
                    by_id[row.game_id].index,
                    boards.Submission(
                        row.id.hex, str(row.user_id), "", row.score, boards.micros(row.submitted_at)
                    ),
                )
        base = boards.board_base(boards.GLOBAL)
        ours = {str(user_id) for user_id, _name in players}
        in_redis = [(m, s) for m, s in await board_contents(base) if m[17:] in ours]
        assert sorted(in_redis) == sorted(
            (member, score) for _u, score, member in replay.zset_entries(base)
        )
        entries = await get_redis().hmget(f"{base}:m", sorted(ours))
        ranked = {user: entry for user, entry in zip(sorted(ours), entries, strict=True) if entry}
        assert ranked == replay.hash_entries(base)

    run(scenario)


def test_an_expired_game_entry_is_looked_up_once_for_a_burst(
    client: TestClient[Any], admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.leaderboard import services

    slug = make_game(client, admin)
    loads = []
    load = services._load_game

    async def counted(name: str) -> services.GameSnapshot:
        loads.append(name)
        return await load(name)

    monkeypatch.setattr(services, "_load_game", counted)

    async def burst() -> set[str]:
        services.forget_game(slug)
        found = await asyncio.gather(*(find_game(slug) for _ in range(20)))
        return {game.slug for game in found}

    assert run(burst) == {slug}
    assert loads == [slug]
