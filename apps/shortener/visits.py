"""Visit counting that never slows a redirect.

A redirect adds one to an in-process tally (a dict increment). Every `push_interval_ms` the
server moves its tally into one Redis hash with a single pipeline; every `flush_interval`
seconds a Celery beat task (or, on the embedded defaults, the server itself, since its Redis
lives in its own process) takes that hash whole by renaming it and adds it to the counters in
the database. A batch is recorded with the counts in one transaction, so a flush that is
retried after a crash never counts twice. At a clean shutdown the server pushes (and on the
embedded defaults flushes) what it holds.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from redis.asyncio import Redis
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from apps.shortener.models import Link, VisitBatch, VisitCount

logger = logging.getLogger("stackyard.shortener.visits")

BUFFER_KEY = "shortener:{visits}:buffer"
BATCH_PREFIX = "shortener:{visits}:batch:"
BATCHES_KEY = "shortener:{visits}:batches"
DIMENSIONS = ("day", "referrer", "browser", "country")
TOTAL = "total"
BATCH_RETENTION = timedelta(days=2)

# Take the whole buffer as a batch, atomically: new visits go to a fresh buffer.
_TAKE_BUFFER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"""

TallyKey = tuple[str, str, str, str]
"""(link id, day, referrer host, browser family)."""


@lru_cache(maxsize=4096)
def referrer_host(header: str | None) -> str:
    """The host of a Referer header: `direct` when absent, `unknown` when unreadable."""
    if not header:
        return "direct"
    try:
        host = urlsplit(header.strip()).hostname
    except ValueError:
        return "unknown"
    return host[:255].rstrip(".") if host else "unknown"


@lru_cache(maxsize=4096)
def browser_family(header: str | None) -> str:
    """The user-agent family (Chrome, Firefox, curl, Googlebot, ...), `unknown` when absent."""
    if not header:
        return "unknown"
    from ua_parser import parse_user_agent

    parsed = parse_user_agent(header[:512])
    return parsed.family[:64] if parsed and parsed.family else "Other"


class VisitTally:
    """The visits this process counted since its last push to Redis."""

    def __init__(self) -> None:
        self._counts: dict[TallyKey, int] = {}
        self._day = ""
        self._day_ends = 0.0

    def _today(self) -> str:
        now = time.time()
        if now >= self._day_ends:
            today = datetime.fromtimestamp(now, UTC).date()
            self._day = today.isoformat()
            midnight = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(1)
            self._day_ends = midnight.timestamp()
        return self._day

    def record(self, link_id: str, referrer: str | None, user_agent: str | None) -> None:
        key = (link_id, self._today(), referrer_host(referrer), browser_family(user_agent))
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1

    def take(self) -> dict[TallyKey, int]:
        taken, self._counts = self._counts, {}
        return taken

    def give_back(self, counts: dict[TallyKey, int]) -> None:
        """Return counts a failed push took, so they go with the next one."""
        for key, count in counts.items():
            self._counts[key] = self._counts.get(key, 0) + count

    def __len__(self) -> int:
        return len(self._counts)


def buffer_fields(counts: dict[TallyKey, int]) -> Counter[str]:
    """Hash fields `<link id>|<dimension>|<value>` of the Redis buffer for these visits."""
    fields: Counter[str] = Counter()
    for (link_id, day, referrer, browser), count in counts.items():
        fields[f"{link_id}|{TOTAL}|"] += count
        fields[f"{link_id}|day|{day}"] += count
        fields[f"{link_id}|referrer|{referrer}"] += count
        fields[f"{link_id}|browser|{browser}"] += count
        fields[f"{link_id}|country|unknown"] += count
    return fields


async def push_tally(redis: Redis, tally: VisitTally) -> int:
    """Move the tally into the Redis buffer in one pipeline; returns how many keys moved."""
    counts = tally.take()
    if not counts:
        return 0
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for field, count in buffer_fields(counts).items():
                pipe.hincrby(BUFFER_KEY, field, count)
            await pipe.execute()
    except Exception:
        tally.give_back(counts)
        raise
    return len(counts)


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def parse_batch(raw: dict[str, str]) -> dict[UUID, dict[tuple[str, str], int]]:
    """Counts per link and (dimension, value) from buffer fields; malformed fields skipped."""
    links: dict[UUID, dict[tuple[str, str], int]] = {}
    for field, count in raw.items():
        link_id, _, rest = field.partition("|")
        dimension, _, value = rest.partition("|")
        try:
            key = UUID(link_id)
            amount = int(count)
        except ValueError:
            logger.warning("skipping malformed visit buffer field %r", field)
            continue
        if dimension != TOTAL and dimension not in DIMENSIONS:
            continue
        bucket = links.setdefault(key, {})
        bucket[(dimension, value[:255])] = bucket.get((dimension, value[:255]), 0) + amount
    return links


async def batch_written(session: AsyncSession, batch_id: str) -> bool:
    found = await session.scalar(select(VisitBatch.id).where(VisitBatch.batch_id == batch_id))
    return found is not None


async def write_batch(session: AsyncSession, batch_id: str, raw: dict[str, str]) -> bool:
    """Add one batch to the counters unless it was written already; True if written now."""
    if await batch_written(session, batch_id):
        return False
    session.add(VisitBatch(batch_id=batch_id))
    await session.flush()
    batch = parse_batch(raw)
    alive = set(await session.scalars(select(Link.id).where(Link.id.in_(list(batch)))))
    insert = _insert(session)
    now = datetime.now(UTC)
    rows = [
        {"link_id": link_id, "dimension": dimension, "value": value, "count": count}
        for link_id, counts in batch.items()
        if link_id in alive
        for (dimension, value), count in counts.items()
        if dimension != TOTAL
    ]
    for start in range(0, len(rows), 500):
        statement = insert(VisitCount).values(
            [
                {**row, "id": uuid.uuid4(), "created_at": now, "updated_at": now}
                for row in rows[start : start + 500]
            ]
        )
        statement = statement.on_conflict_do_update(
            index_elements=["link_id", "dimension", "value"],
            set_={"count": VisitCount.count + statement.excluded.count, "updated_at": now},
        )
        await session.execute(statement)
    for link_id, counts in batch.items():
        total = counts.get((TOTAL, ""), 0)
        if link_id in alive and total:
            await session.execute(
                update(Link).where(Link.id == link_id).values(visits=Link.visits + total)
            )
    await session.execute(delete(VisitBatch).where(VisitBatch.created_at < now - BATCH_RETENTION))
    return True


async def flush_buffer(redis: Redis, open_session: Any) -> int:
    """Write the Redis buffer (and any batch a failed flush left) to the database.

    `open_session` is an async context manager factory giving a committing session
    (`apps.kernel.db.session`). Returns how many batches were written.
    """
    batch_id = uuid.uuid4().hex
    await redis.eval(  # type: ignore[misc]
        _TAKE_BUFFER, 3, BUFFER_KEY, BATCH_PREFIX + batch_id, BATCHES_KEY, batch_id
    )
    written = 0
    members: set[str] = await redis.smembers(BATCHES_KEY)  # type: ignore[misc, assignment]
    for pending in sorted(members):
        key = BATCH_PREFIX + pending
        raw: dict[str, str] = await redis.hgetall(key)  # type: ignore[misc, assignment]
        if raw:
            try:
                async with open_session() as session:
                    written += int(await write_batch(session, pending, raw))
            except IntegrityError:
                # Another flusher wrote this batch at the same moment (then it is done), or
                # a link vanished mid-flush (then the batch stays for the next flush).
                async with open_session() as session:
                    if not await batch_written(session, pending):
                        continue
        await redis.delete(key)
        await redis.srem(BATCHES_KEY, pending)  # type: ignore[misc]
    return written
