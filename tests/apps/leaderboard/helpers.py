"""Shared steps of the leaderboard tests: games, scores, and reading Redis outside the app."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar.testing import TestClient

from tests.conftest import Account

T = TypeVar("T")


def make_game(
    client: TestClient[Any],
    admin: Account,
    *,
    sort_order: str = "high_first",
    operator: str = "best",
    max_score: int | None = None,
) -> str:
    slug = f"g-{uuid.uuid4().hex[:10]}"
    body: dict[str, Any] = {
        "slug": slug,
        "name": f"Game {slug}",
        "sort_order": sort_order,
        "operator": operator,
    }
    if max_score is not None:
        body["max_score"] = max_score
    response = client.post("/leaderboard/games", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return slug


def submit(
    client: TestClient[Any], account: Account, slug: str, score: int, key: str | None = None
) -> Any:
    body: dict[str, Any] = {"score": score}
    if key is not None:
        body["idempotency_key"] = key
    return client.post(f"/leaderboard/games/{slug}/scores", json=body, headers=account.headers)


def top(client: TestClient[Any], slug: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/leaderboard/games/{slug}/top", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run async work on a fresh loop with its own Redis client and engine, then close them."""
    from apps.kernel import db
    from apps.kernel.cache import close_redis

    async def wrapped() -> T:
        try:
            return await work()
        finally:
            await close_redis()
            await db.dispose_engines()

    return asyncio.run(wrapped())


async def board_contents(base: str) -> list[tuple[str, float]]:
    """Every (member, score) of a board's sorted set, best first."""
    from apps.kernel.cache import get_redis

    return [(m, s) for m, s in await get_redis().zrevrange(f"{base}:z", 0, -1, withscores=True)]
