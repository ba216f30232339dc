"""Visit counting: buffered, flushed to counters, answered from counters."""

from __future__ import annotations

import asyncio
import uuid

from tests.apps.shortener.conftest import LINKS, create, flush_visits, follow, stats_when

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def test_stats_count_days_referrers_browsers(client, user):
    link = create(client, user.headers)
    code = link["code"]
    for _ in range(3):
        follow(client, code, **{"user-agent": CHROME, "referer": "https://news.example/item?id=1"})
    follow(client, code, **{"user-agent": FIREFOX})
    follow(client, code, **{"user-agent": "curl/8.5.0", "referer": "not a url at all"})
    stats = stats_when(client, code, 5, user.headers)
    assert stats["total_visits"] == 5
    assert sum(day["visits"] for day in stats["by_day"]) == 5
    assert len(stats["by_day"]) == 1
    referrers = {item["value"]: item["visits"] for item in stats["referrers"]}
    assert referrers["news.example"] == 3
    assert referrers["direct"] == 1
    browsers = {item["value"]: item["visits"] for item in stats["browsers"]}
    assert browsers == {"Chrome": 3, "Firefox": 1, "curl": 1}
    assert stats["countries"] == [{"value": "unknown", "visits": 5}]
    again = client.get(f"{LINKS}/{code}", headers=user.headers).json()
    assert again["visits"] == 5


def test_a_flush_twice_does_not_count_twice(client):
    link = create(client)
    for _ in range(4):
        follow(client, link["code"])
    assert stats_when(client, link["code"], 4)["total_visits"] == 4
    flush_visits()
    flush_visits()
    stats = client.get(f"{LINKS}/{link['code']}/stats").json()
    assert stats["total_visits"] == 4


def test_a_batch_left_by_a_crashed_flush_is_written_once(client, stack):
    """A flush that died after writing but before deleting its batch: the retry skips it."""
    from apps.kernel import db
    from apps.kernel.cache import close_redis, get_redis
    from apps.shortener.visits import BATCH_PREFIX, BATCHES_KEY, write_batch

    link = create(client)
    code = link["code"]
    follow(client, code)
    stats_when(client, code, 1)
    link_id = _link_id(code)
    batch_id = uuid.uuid4().hex
    fields = {f"{link_id}|total|": "2", f"{link_id}|day|2030-01-01": "2"}

    async def crash_after_write() -> None:
        try:
            redis = get_redis()
            await redis.hset(BATCH_PREFIX + batch_id, mapping=fields)
            await redis.sadd(BATCHES_KEY, batch_id)
            async with db.session() as session:
                assert await write_batch(session, batch_id, fields)
        finally:
            await close_redis()
            await db.dispose_engines()

    asyncio.run(crash_after_write())
    flush_visits()
    stats = client.get(f"{LINKS}/{code}/stats", params={"days": 3660}).json()
    assert stats["total_visits"] == 3
    assert {"day": "2030-01-01", "visits": 2} in stats["by_day"]


def test_visits_of_a_deleted_link_are_dropped(client, user):
    link = create(client, user.headers)
    follow(client, link["code"])
    client.delete(f"{LINKS}/{link['code']}", headers=user.headers)
    for _ in range(20):
        flush_visits()  # no foreign-key error, nothing left behind
    from apps.kernel.cache import close_redis, get_redis
    from apps.shortener.visits import BATCHES_KEY

    async def pending() -> int:
        try:
            return await get_redis().scard(BATCHES_KEY)
        finally:
            await close_redis()

    assert asyncio.run(pending()) == 0


def test_stats_of_someone_elses_link_are_refused(client, user, other_user):
    link = create(client, user.headers)
    assert client.get(f"{LINKS}/{link['code']}/stats").status_code == 403
    assert (
        client.get(f"{LINKS}/{link['code']}/stats", headers=other_user.headers).status_code == 403
    )
    assert client.get(f"{LINKS}/{link['code']}/stats", headers=user.headers).status_code == 200


def test_stats_come_from_counters_not_rows(client):
    """The stats query reads the counter rows of the link (a handful), whatever the total."""
    link = create(client)
    link_id = _link_id(link["code"])
    from apps.kernel import db
    from apps.kernel.cache import close_redis
    from apps.shortener.visits import write_batch

    fields = {
        f"{link_id}|total|": "25000000",
        f"{link_id}|day|2030-01-01": "25000000",
        f"{link_id}|referrer|direct": "25000000",
    }

    async def add() -> None:
        try:
            async with db.session() as session:
                await write_batch(session, uuid.uuid4().hex, fields)
        finally:
            await close_redis()
            await db.dispose_engines()

    asyncio.run(add())
    stats = client.get(f"{LINKS}/{link['code']}/stats", params={"days": 3660}).json()
    assert stats["total_visits"] == 25_000_000
    assert stats["referrers"] == [{"value": "direct", "visits": 25_000_000}]


def test_beat_schedules_the_flush():
    from apps.kernel.tasks import celery_app
    from apps.shortener.tasks import FLUSH_TASK

    entry = celery_app.conf.beat_schedule["shortener-flush-visits"]
    assert entry["task"] == FLUSH_TASK
    assert FLUSH_TASK in celery_app.tasks


def _link_id(code: str) -> str:
    from sqlalchemy import select

    from apps.kernel import db
    from apps.shortener.models import Link

    async def find() -> str:
        try:
            async with db.session() as session:
                return str(await session.scalar(select(Link.id).where(Link.code == code)))
        finally:
            await db.dispose_engines()

    return asyncio.run(find())


def test_the_beat_task_runs_outside_any_event_loop(stack):
    """Celery calls the task from a plain thread: it must open its own loop and Redis client."""
    from apps.shortener.tasks import flush_visits

    assert isinstance(flush_visits.run(), int)
