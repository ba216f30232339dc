"""The restaurant leaderboard in Redis: an index of the database, rebuilt from it at will.

Keys (all under `reviews:`):
- `reviews:board` sorted set, restaurant id -> Bayesian sentiment score, every city;
- `reviews:board:city:<folded city>` the same, one city;
- `reviews:restaurant:<id>` hash with the name, city, analysed reviews and label counts, so
  reading the leaderboard needs no database.

A restaurant is on the boards once at least one of its reviews has been analysed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, Callable
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from redis.asyncio import Redis

from apps.reviews.models import PENDING
from apps.reviews.schemas import LabelCounts, LeaderboardEntry
from apps.reviews.sentiment import LABELS

if TYPE_CHECKING:
    from apps.reviews.services import Standing

BOARD = "reviews:board"
CITY_BOARD_PREFIX = "reviews:board:city:"
CARD_PREFIX = "reviews:restaurant:"
LOCK_PREFIX = "reviews:lock:"
COUNTED = (*LABELS, PENDING)
REBUILD_BATCH = 500


def city_board(city_key: str) -> str:
    return CITY_BOARD_PREFIX + city_key


def card_key(restaurant_id: UUID | str) -> str:
    return f"{CARD_PREFIX}{restaurant_id}"


def lock_key(restaurant_id: UUID | str) -> str:
    return f"{LOCK_PREFIX}{restaurant_id}"


def _card(standing: Standing) -> dict[str, str]:
    card = {
        "name": standing.name,
        "city": standing.city,
        "city_key": standing.city_key,
        "reviews": str(standing.analysed),
    }
    card.update({label: str(standing.label_counts.get(label, 0)) for label in COUNTED})
    return card


def _stage(pipe: Any, standing: Standing, board: str, city_prefix: str) -> None:
    """Queue the commands that put (or take) one restaurant on (off) the boards."""
    member = str(standing.restaurant_id)
    score = standing.score
    if score is None:
        pipe.zrem(board, member)
        pipe.zrem(city_prefix + standing.city_key, member)
        pipe.delete(card_key(member))
        return
    pipe.zadd(board, {member: score})
    pipe.zadd(city_prefix + standing.city_key, {member: score})
    pipe.delete(card_key(member))
    pipe.hset(card_key(member), mapping=_card(standing))


async def publish(redis: Redis, standing: Standing) -> None:
    """Copy one restaurant's standing into the boards, atomically."""
    async with redis.pipeline(transaction=True) as pipe:
        _stage(pipe, standing, BOARD, CITY_BOARD_PREFIX)
        await pipe.execute()


async def top(redis: Redis, *, limit: int, city_key: str | None = None) -> list[LeaderboardEntry]:
    """The best `limit` restaurants (of one city), from Redis alone."""
    board = city_board(city_key) if city_key is not None else BOARD
    ranked = cast(
        "list[tuple[str, float]]", await redis.zrevrange(board, 0, limit - 1, withscores=True)
    )
    async with redis.pipeline(transaction=False) as pipe:
        for member, _ in ranked:
            pipe.hgetall(card_key(member))
        cards = await pipe.execute()
    entries = []
    for place, ((member, score), card) in enumerate(zip(ranked, cards, strict=True), start=1):
        if not card:
            continue  # a restaurant taken off between the two reads
        entries.append(
            LeaderboardEntry(
                rank=place,
                restaurant_id=UUID(member),
                name=card.get("name", ""),
                city=card.get("city", ""),
                score=round(float(score), 6),
                reviews=int(card.get("reviews", 0)),
                label_counts=LabelCounts(**{label: int(card.get(label, 0)) for label in COUNTED}),
            )
        )
    return entries


async def ranks(redis: Redis, restaurant_id: UUID, city_key: str) -> tuple[int | None, int | None]:
    """1-based places on the all-cities board and on the city's board (None: not on it)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zrevrank(BOARD, str(restaurant_id))
        pipe.zrevrank(city_board(city_key), str(restaurant_id))
        overall, in_city = await pipe.execute()
    return (
        overall + 1 if overall is not None else None,
        in_city + 1 if in_city is not None else None,
    )


async def rebuild(
    redis: Redis,
    standings: AsyncIterable[Standing],
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Replace every board with one built from `standings`; returns restaurants ranked.

    The new boards are written under temporary names and renamed over the old ones, so a
    reader sees the old leaderboard or the new one, never a half-built one.
    """
    build = f"reviews:rebuild:{uuid.uuid4().hex}:"
    board, city_prefix = build + "board", build + "city:"
    ranked, seen = 0, 0
    cities: set[str] = set()
    async with redis.pipeline(transaction=False) as pipe:
        async for standing in standings:
            seen += 1
            if standing.score is not None:
                ranked += 1
                cities.add(standing.city_key)
                _stage(pipe, standing, board, city_prefix)
            else:
                pipe.delete(card_key(standing.restaurant_id))
            if seen % REBUILD_BATCH == 0:
                await pipe.execute()
            if on_progress is not None:
                on_progress(1)
        await pipe.execute()
    stale = [
        key
        async for key in redis.scan_iter(match=CITY_BOARD_PREFIX + "*", count=1000)
        if key[len(CITY_BOARD_PREFIX) :] not in cities
    ]
    async with redis.pipeline(transaction=True) as swap:
        for city_key in cities:
            swap.rename(city_prefix + city_key, city_board(city_key))
        if ranked:
            swap.rename(board, BOARD)
        else:
            swap.delete(BOARD)
        if stale:
            swap.delete(*stale)
        await swap.execute()
    return ranked
