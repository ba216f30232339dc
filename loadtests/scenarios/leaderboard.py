"""leaderboard: submissions and board reads over 5 games and 10,000 seeded players.

The target serves only the leaderboard app on the real Redis and Postgres: DATABASE_URL and
REDIS_URL when set, else a fresh database and a free Redis database index on 127.0.0.1 that
it drops afterwards. It seeds five games (high and low first; best, sum and latest) and
10,000 players with two scores in each game, rebuilds the Redis boards from them (the same
`stackyard leaderboard rebuild` code) and hands the player ids to the locustfile.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loadtests.scenarios import Scenario, register
from loadtests.targets import self_started_server

LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfiles" / "leaderboard.py"
PLAYERS = 10_000
GAMES = [
    ("space-race", "high_first", "best"),
    ("coin-hunt", "high_first", "sum"),
    ("speedrun", "low_first", "best"),
    ("daily-quiz", "high_first", "latest"),
    ("golf", "low_first", "sum"),
]


async def seed(players: int = PLAYERS) -> list[str]:
    """Games, players and two scores per player and game; then the boards rebuilt."""
    from apps.kernel import db
    from apps.kernel.cache import close_redis, get_redis
    from apps.leaderboard.models import Game, Player, Score
    from apps.leaderboard.rebuild import rebuild

    rng = random.Random(40)
    user_ids = [uuid.uuid4() for _ in range(players)]
    now = datetime.now(UTC)
    try:
        async with db.session() as session:
            games = [
                Game(slug=s, name=s.replace("-", " ").title(), sort_order=o, operator=op)
                for s, o, op in GAMES
            ]
            session.add_all(games)
            await session.flush()
            await session.execute(
                Player.__table__.insert(),
                [
                    {
                        "id": uuid.uuid4(),
                        "user_id": u,
                        "display_name": f"Player {i}",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, u in enumerate(user_ids)
                ],
            )
            for game in games:
                rows = [
                    {
                        "id": uuid.uuid4(),
                        "game_id": game.id,
                        "user_id": user,
                        "score": int(rng.paretovariate(1.5) * 100),
                        "submitted_at": now - timedelta(seconds=rng.randint(1, 20 * 86400)),
                        "idempotency_key": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for user in user_ids
                    for _ in range(2)
                ]
                await session.execute(Score.__table__.insert(), rows)
        await rebuild(get_redis())
    finally:
        await close_redis()
        await db.dispose_engines()
    return [str(u) for u in user_ids]


@contextmanager
def real_services_env() -> Iterator[dict[str, str]]:
    """DATABASE_URL/REDIS_URL from the environment, or a fresh database and Redis index."""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        yield {}
        return
    from tests.support import real_services

    problem = real_services.unreachable()
    if problem:
        raise RuntimeError(f"the leaderboard load test needs Postgres and Redis: {problem}")
    database = real_services.create_database("stackyard_load")
    index = real_services.claim_redis_index()
    try:
        yield {
            "DATABASE_URL": f"postgresql://{real_services.PG_USER}@{real_services.PG_HOST}:"
            f"{real_services.PG_PORT}/{database}",
            "REDIS_URL": f"{real_services.REDIS_BASE}/{index}",
        }
    finally:
        real_services.release_redis_index(index)
        real_services.drop_database(database)


@contextmanager
def leaderboard_target() -> Iterator[str]:
    with real_services_env() as env, tempfile.TemporaryDirectory(prefix="lb-load-") as folder:
        players_file = Path(folder) / "players.json"
        with self_started_server(env=env, apps=["leaderboard"]) as url:
            subprocess.run(
                [sys.executable, "-m", "loadtests.scenarios.leaderboard", str(players_file)],
                env=dict(os.environ, STACKYARD_DATA_DIR=folder, **env),
                check=True,
                timeout=600,
            )
            os.environ["LEADERBOARD_LOAD_PLAYERS"] = str(players_file)
            try:
                yield url
            finally:
                os.environ.pop("LEADERBOARD_LOAD_PLAYERS", None)


SCENARIO = register(
    Scenario(
        name="leaderboard",
        locustfile=LOCUSTFILE,
        target=leaderboard_target,
        description="Submit scores (70%), read top 10, my rank and around-me; 5 games, "
        "10,000 players, Zipf-skewed; real Redis and Postgres.",
    )
)

if __name__ == "__main__":
    seeded = asyncio.run(seed())
    Path(sys.argv[1]).write_text(
        json.dumps({"games": [slug for slug, _o, _op in GAMES], "players": seeded})
    )
