"""Score intake: concurrent submissions of one process are handled in batches.

A batch costs one database transaction for the history rows (idempotency keys enforced by a
unique constraint) and one Redis round trip: a single script call applying the whole batch to
the boards and adding its counts to the per-user rate-limit counters shared by every
process. A request is answered only after its row is committed, so nothing acknowledged
is ever lost; batching only shares the fixed costs (group commit).

Batches overlap: while one is being applied to Redis, the next ones are already being stored
(up to `IN_FLIGHT` transactions at once on Postgres; one on SQLite, which has one writer).
They are applied to Redis strictly in arrival order, so each player's submissions reach the
boards in `submitted_at` order.

Rate limits: each process decides from the shared per-minute count it last read from Redis
plus its own submissions since, so one process is exact and several may together admit at
most one batch more each. Redis down: the process keeps limiting on its own counts, the rows
are stored, and the answer says `indexed: false`; `stackyard leaderboard rebuild` repairs it.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from prometheus_client import Counter
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apps.kernel import db
from apps.kernel.errors import DomainError, Invalid, ServiceUnavailable, TooManyRequests
from apps.kernel.settings import get_settings
from apps.leaderboard import boards, services
from apps.leaderboard.models import Player, Score
from apps.leaderboard.schemas import ScoreAccepted
from apps.leaderboard.services import GameSnapshot

MAX_BATCH = 256
IN_FLIGHT = 2
"""Batches being stored at once (Postgres); SQLite has one writer, so one there. More slots
make smaller batches, and each batch has a fixed cost; two keep the overlap (with the held
connections, benchmarks/leaderboard.py measured 1, 2 and 4 slots within its noise)."""
RATE_WINDOW_SECONDS = 60

SUBMITTED = Counter(
    "stackyard_leaderboard_scores_submitted_total",
    "Accepted score submissions (replays of an idempotency key not counted)",
    ["game"],
)


def submissions_per_minute() -> int:
    """Per-user limit: LEADERBOARD_SUBMISSIONS_PER_MINUTE, default 120."""
    raw = os.environ.get("LEADERBOARD_SUBMISSIONS_PER_MINUTE", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else 120


@dataclass
class Pending:
    """One submission waiting for its batch. The intake keys its per-batch bookkeeping by
    `user` (the id's text, hashed in C) and by position, not by UUID objects, whose hash
    is Python code."""

    game: GameSnapshot
    user_id: UUID
    user: str
    display_name: str
    score: int
    key: str | None
    t_us: int
    id: UUID = field(default_factory=uuid.uuid4)
    future: asyncio.Future[ScoreAccepted] | None = None

    @property
    def submitted_at(self) -> datetime:
        return boards.from_micros(self.t_us)

    def accepted(self, *, indexed: bool, applied: boards.Applied | None = None) -> ScoreAccepted:
        return ScoreAccepted(
            id=self.id,
            game=self.game.slug,
            user_id=self.user_id,
            score=self.score,
            submitted_at=self.submitted_at,
            replayed=False,
            indexed=indexed,
            board_score=applied.board_score if applied else None,
            rank=applied.rank if applied else None,
        )


class LiveNotifier:
    """Told which games' top changed; the live module pushes them (throttled)."""

    def changed(self, game: GameSnapshot) -> None:  # pragma: no cover - replaced by live
        return None


class RateLimit:
    """Per-user submissions per minute: shared counts from Redis plus this process's own."""

    def __init__(self) -> None:
        self.window = -1
        self.shared: dict[str, int] = {}
        self.unsent: dict[str, int] = {}

    def take(self, user: str, limit: int) -> bool:
        window = int(time.time()) // RATE_WINDOW_SECONDS
        if window != self.window:
            self.window, self.shared, self.unsent = window, {}, {}
        unsent = self.unsent.get(user, 0)
        if self.shared.get(user, 0) + unsent >= limit:
            return False
        self.unsent[user] = unsent + 1
        return True

    @property
    def key(self) -> str:
        """The hash of this window's shared counters (user -> submissions)."""
        return f"lb:rl:{self.window}"

    def pending(self) -> tuple[str, list[tuple[str, int]]]:
        """The shared counters' hash for this window, and this process's unsent counts."""
        return self.key, list(self.unsent.items())

    def synced(self, key: str, sent: list[tuple[str, int]], totals: list[int]) -> None:
        """The counters of `key` now hold `totals`; what was sent is no longer this process's
        own. Totals of a window that has ended since are dropped with it."""
        if key != self.key:
            return
        for (user, count), total in zip(sent, totals, strict=True):
            self.shared[user] = total
            left = self.unsent.get(user, 0) - count
            if left > 0:
                self.unsent[user] = left
            else:
                self.unsent.pop(user, None)


class Intake:
    """The batching queue of one event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: list[Pending] = []
        self.worker: asyncio.Task[None] | None = None
        self.last: asyncio.Task[None] | None = None
        self.slots = asyncio.Semaphore(1 if get_settings().is_sqlite else IN_FLIGHT)
        self.notifier: LiveNotifier = LiveNotifier()
        self.known_names: dict[UUID, str] = {}
        self.counters: dict[str, Any] = {}
        self.link: boards.ScriptLink | None = None
        self.links: list[HistoryLink] = []
        self.rate = RateLimit()

    async def submit(self, pending: Pending) -> ScoreAccepted:
        pending.future = self.loop.create_future()
        self.queue.append(pending)
        if self.worker is None:
            self.worker = self.loop.create_task(self._drain())
        return await pending.future

    async def _drain(self) -> None:
        """Start a batch whenever a slot is free; the queue grows meanwhile (group commit)."""
        try:
            while self.queue:
                await self.slots.acquire()
                batch = self.queue[:MAX_BATCH]
                del self.queue[:MAX_BATCH]
                allowed = self._admit(batch)
                if not allowed:
                    self.slots.release()
                    continue
                self.last = self.loop.create_task(self._run(allowed, self.last))
        finally:
            self.worker = None

    def _admit(self, batch: list[Pending]) -> list[Pending]:
        """The batch's submissions within their user's rate limit; the others get a 429."""
        limit = submissions_per_minute()
        retry_after = RATE_WINDOW_SECONDS - int(time.time()) % RATE_WINDOW_SECONDS
        allowed = []
        for item in batch:
            if self.rate.take(item.user, limit):
                allowed.append(item)
            else:
                message = f"At most {limit} score submissions per minute"
                _fail(item, TooManyRequests(message, retry_after=retry_after))
        return allowed

    async def _run(self, batch: list[Pending], previous: asyncio.Task[None] | None) -> None:
        try:
            await self._process(batch, previous)
        except BaseException as exc:  # every waiter gets an answer, whatever happened
            for item in batch:
                _fail(item, _as_domain_error(exc))
            if not isinstance(exc, Exception):
                raise
        finally:
            self.slots.release()

    async def _process(self, batch: list[Pending], previous: asyncio.Task[None] | None) -> None:
        inserted, replays = await self._store(batch)
        if previous is not None and not previous.done():
            await asyncio.wait([previous])  # Redis sees batches in arrival order
        fresh = [item for item in batch if item.id.int in inserted]
        applied = await self._apply(self._link(), fresh) if fresh else None
        for position, item in enumerate(fresh):
            counted = self.counters.get(item.game.slug)
            if counted is None:
                counted = self.counters[item.game.slug] = SUBMITTED.labels(item.game.slug)
            counted.inc()
            outcome = applied[position] if applied is not None else None
            if outcome is not None and _touches_top(outcome):
                self.notifier.changed(item.game)
            _done(item, item.accepted(indexed=outcome is not None, applied=outcome))
        if len(fresh) < len(batch):
            for item in batch:
                if item.id.int not in inserted:
                    original = replays.get((item.game.id, item.user_id, item.key))
                    if original is None:
                        _fail(item, ServiceUnavailable("The submission could not be stored; retry"))
                    else:
                        _done(item, original)

    def _link(self) -> boards.ScriptLink:
        """The held connection to the index (a new one when the index client changed)."""
        redis = services.index_redis()
        if self.link is None or self.link.redis is not redis:
            self.link = boards.ScriptLink(redis)
        return self.link

    async def _apply(
        self, link: boards.ScriptLink, items: Sequence[Pending]
    ) -> list[boards.Applied] | None:
        """Apply fresh rows to the boards and sync rate counts: one script call. What it did
        with each of `items`, in order; None when the index is unreachable."""
        counter_key, counts = self.rate.pending()
        keys, args = boards.apply_batch(
            [
                (
                    item.game.index,
                    boards.Submission(
                        item.id.hex, item.user, item.display_name, item.score, item.t_us
                    ),
                )
                for item in items
            ],
            counter_key,
            counts,
            RATE_WINDOW_SECONDS * 2,
        )
        try:
            result = await link.call("apply", keys, args)
        except (RedisError, OSError):
            return None
        totals, outcomes = boards.parse_applied(result, len(counts))
        self.rate.synced(counter_key, counts, totals)
        return outcomes

    async def _store(
        self, items: Sequence[Pending]
    ) -> tuple[set[int], dict[tuple[UUID, UUID, str | None], ScoreAccepted]]:
        """Insert the rows; replays of a key return the original row. The ids inserted are
        returned as their `UUID.int`.

        On Postgres the batch is one INSERT from array parameters, atomic by itself, sent in
        autocommit on a connection the intake holds (`HistoryLink`). Elsewhere the batch's
        statements share a transaction. Player names are only the boards' display cache, so
        they need no atomicity with the rows.
        """
        now = datetime.now(UTC)
        names = {
            item.user_id: item.display_name
            for item in items
            if self.known_names.get(item.user_id) != item.display_name
        }
        try:
            engine = db.engine()
            inserted = await self._insert(engine, items, names, now)
            replays = {}
            missing = [item for item in items if item.id.int not in inserted]
            if missing:  # replays of a key (the original may be in this very batch)
                async with engine.connect() as connection:
                    replays = await _originals(connection, missing)
        except (OperationalError, DBAPIError, OSError, *HistoryLink.FAILURES) as exc:
            raise ServiceUnavailable(
                f"The score store did not confirm the submission ({type(exc).__name__}); "
                "retry with the same idempotency_key"
            ) from exc
        self.known_names.update(names)
        return inserted, replays

    async def _insert(
        self, engine: AsyncEngine, items: Sequence[Pending], names: dict[UUID, str], now: datetime
    ) -> set[int]:
        """The rows actually inserted, as `UUID.int`; a replayed key inserts nothing."""
        if engine.dialect.driver == "asyncpg":
            if names:
                async with engine.begin() as connection:
                    await _save_names(connection, names, now)
            link = self.links.pop() if self.links else HistoryLink()
            try:
                return await link.insert(engine, items, now)
            finally:
                self.links.append(link)
        async with engine.begin() as connection:
            if names:
                await _save_names(connection, names, now)
            result = await connection.execute(
                _statements(engine.dialect.name).scores,
                [
                    {
                        "id": item.id,
                        "game_id": item.game.id,
                        "user_id": item.user_id,
                        "score": item.score,
                        "submitted_at": item.submitted_at,
                        "idempotency_key": item.key,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for item in items
                ],
            )
            return {row_id.int for row_id in result.scalars()}

    async def release(self) -> None:
        """Return the held database connections (before the loop's engine is disposed)."""
        links, self.links = self.links, []
        for link in links:
            await link.close()


@dataclass(frozen=True)
class Statements:
    """The intake's statements for one dialect, built once (Core, no ORM session)."""

    players: Any
    scores: Any


@functools.cache
def _statements(dialect: str) -> Statements:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    players = insert(Player)
    players = players.on_conflict_do_update(
        index_elements=["user_id"],
        set_={
            "display_name": players.excluded.display_name,
            "updated_at": players.excluded.updated_at,
        },
    )
    scores = (
        insert(Score)
        .on_conflict_do_nothing(
            index_elements=["game_id", "user_id", "idempotency_key"],
            index_where=Score.idempotency_key.is_not(None),
        )
        .returning(Score.id)
    )
    return Statements(players, scores)


async def _save_names(connection: AsyncConnection, names: dict[UUID, str], now: datetime) -> None:
    await connection.execute(
        _statements(connection.dialect.name).players,
        [
            {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "display_name": name,
                "created_at": now,
                "updated_at": now,
            }
            for user_id, name in sorted(names.items())
        ],
    )


STORE_TIMEOUT = 10.0
"""Seconds one batch INSERT may take before its submissions are answered 503."""


class HistoryLink:
    """One Postgres connection held for the intake's batch INSERTs.

    Checking a connection out of SQLAlchemy's pool and executing through its adapter cost
    about three times the INSERT itself (`benchmarks/leaderboard.py`), so a link keeps one
    connection checked out and sends the one prepared statement with asyncpg directly, in
    autocommit. The statement's text never depends on the batch size: the rows travel as
    arrays. A connection the server closed while idle is replaced before use; after any
    failure during a call the connection is dropped, since whether the server still runs
    the statement is unknown (those submissions are answered 503, nothing acknowledged).
    """

    SQL = (
        "INSERT INTO leaderboard_score "
        "(id, game_id, user_id, score, submitted_at, idempotency_key, created_at, updated_at) "
        "SELECT id, game_id, user_id, score, 'epoch'::timestamptz + t_us * interval '1 us', "
        "idempotency_key, $6, $6 "
        "FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::bigint[], "
        "$7::varchar[]) AS batch(id, game_id, user_id, score, t_us, idempotency_key) "
        "ON CONFLICT (game_id, user_id, idempotency_key) WHERE idempotency_key IS NOT NULL "
        "DO NOTHING RETURNING id"
    )
    FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError)

    def __init__(self) -> None:
        self.engine: AsyncEngine | None = None
        self.connection: AsyncConnection | None = None
        self.driver: Any = None

    async def insert(
        self, engine: AsyncEngine, items: Sequence[Pending], now: datetime
    ) -> set[int]:
        """Insert the batch's rows with one statement: the ids actually inserted, as
        `UUID.int` (times go as epoch microseconds, exact, so no datetime is built)."""
        async with asyncio.timeout(STORE_TIMEOUT):
            if self.engine is not engine or self.driver is None or self.driver.is_closed():
                await self.close()
                self.engine = engine
                self.connection = await engine.connect()
                self.driver = (await self.connection.get_raw_connection()).driver_connection
            try:
                rows = await self.driver.fetch(
                    self.SQL,
                    [item.id for item in items],
                    [item.game.id for item in items],
                    [item.user_id for item in items],
                    [item.score for item in items],
                    [item.t_us for item in items],
                    now,
                    [item.key for item in items],
                )
            except BaseException:
                await self.close(failed=True)
                raise
        return {row[0].int for row in rows}

    async def close(self, *, failed: bool = False) -> None:
        connection, self.connection, self.driver = self.connection, None, None
        if connection is None:
            return
        if failed:
            await connection.invalidate()
        await connection.close()


LIVE_TOP = 10


def _touches_top(outcome: boards.Applied) -> bool:
    """Whether the submission entered, moved inside or left the live top."""
    ranks = [r for r in (outcome.rank, outcome.old_rank) if r is not None]
    return any(r <= LIVE_TOP for r in ranks)


async def _originals(
    connection: AsyncConnection, items: Sequence[Pending]
) -> dict[tuple[UUID, UUID, str | None], ScoreAccepted]:
    found: dict[tuple[UUID, UUID, str | None], ScoreAccepted] = {}
    for item in items:
        row = (
            await connection.execute(
                select(Score.id, Score.user_id, Score.score, Score.submitted_at).where(
                    Score.game_id == item.game.id,
                    Score.user_id == item.user_id,
                    Score.idempotency_key == item.key,
                )
            )
        ).first()
        if row is not None:
            found[(item.game.id, item.user_id, item.key)] = ScoreAccepted(
                id=row.id,
                game=item.game.slug,
                user_id=row.user_id,
                score=row.score,
                submitted_at=row.submitted_at,
                replayed=True,
                indexed=True,
            )
    return found


def _done(item: Pending, answer: ScoreAccepted) -> None:
    if item.future is not None and not item.future.done():
        item.future.set_result(answer)


def _fail(item: Pending, error: BaseException) -> None:
    if item.future is not None and not item.future.done():
        item.future.set_exception(error)


def _as_domain_error(exc: BaseException) -> BaseException:
    if isinstance(exc, DomainError) or not isinstance(exc, Exception):
        return exc
    return ServiceUnavailable(f"The submission could not be processed ({type(exc).__name__})")


_intakes: dict[int, Intake] = {}


def intake() -> Intake:
    """The intake of the running event loop."""
    loop = asyncio.get_running_loop()
    found = _intakes.get(id(loop))
    if found is None or found.loop is not loop:
        found = _intakes[id(loop)] = Intake()
    return found


async def _release_links() -> None:
    loop = asyncio.get_running_loop()
    found = _intakes.get(id(loop))
    if found is not None and found.loop is loop:
        await found.release()


db.on_dispose(_release_links)


def now_micros() -> int:
    return time.time_ns() // 1000


async def submit_score(
    game: GameSnapshot,
    user_id: UUID,
    display_name: str,
    score: int,
    idempotency_key: str | None,
    into: Intake | None = None,
) -> ScoreAccepted:
    """Store one score in the history and apply it to the boards (batched with its neighbours
    in the running loop's intake, or `into`)."""
    if game.max_score is not None and score > game.max_score:
        raise Invalid(
            "score", f"{score} is above this game's plausible maximum of {game.max_score}"
        )
    name = (display_name or "")[:100]
    pending = Pending(game, user_id, str(user_id), name, score, idempotency_key, now_micros())
    return await (into or intake()).submit(pending)
