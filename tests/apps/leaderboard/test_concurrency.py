"""50 submissions at once for the same players: ranks equal a sequential replay, none lost."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import func, select

from apps.kernel import db
from apps.leaderboard import boards, submissions
from apps.leaderboard.models import Score
from apps.leaderboard.services import find_game
from tests.apps.leaderboard.helpers import board_contents, make_game, run
from tests.conftest import Account


def test_concurrent_submissions_match_a_sequential_replay(
    client: TestClient[Any], admin: Account
) -> None:
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

    run(scenario)
