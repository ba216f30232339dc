"""Leaderboard domain logic: games, board reads from the Redis index, reports from the history.

No HTTP objects here. Reads that need Redis raise ServiceUnavailable (503) when it is down;
reports read only the database and keep working.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from msgspec import UNSET
from prometheus_client import Histogram
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import and_, case, func, over, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel import db
from apps.kernel.cache import get_redis
from apps.kernel.errors import Conflict, Invalid, NotFound, ServiceUnavailable
from apps.kernel.fields import ensure_storable
from apps.leaderboard import boards
from apps.leaderboard.models import Game, Player, Score
from apps.leaderboard.schemas import BoardRow, GameCreate, GameUpdate, PlayerRank, ReportRow

GAME_CACHE_SECONDS = 2.0
GLOBAL_SLUG = "global"

RANK_QUERY_SECONDS = Histogram(
    "stackyard_leaderboard_rank_query_seconds",
    "Time to answer a rank query (rank, score, percentile and neighbours) from Redis",
    ["board"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)


def index_redis() -> Redis:
    """The Redis client holding the boards: the loop's client without a timer per read,
    since each operation on the index is bounded as a whole by boards.INDEX_TIMEOUT."""
    return get_redis(guarded_reads=False)


@dataclass(frozen=True)
class GameSnapshot:
    """A game as the hot paths need it, cached in-process for a couple of seconds."""

    id: UUID
    slug: str
    name: str
    sort_order: str
    operator: str
    max_score: int | None
    created_at: datetime

    @property
    def index(self) -> boards.GameIndex:
        return boards.GameIndex(self.id.hex, self.sort_order, self.operator)

    @classmethod
    def of(cls, game: Game) -> GameSnapshot:
        return cls(
            game.id,
            game.slug,
            game.name,
            game.sort_order,
            game.operator,
            game.max_score,
            game.created_at,
        )


_game_cache: dict[str, tuple[GameSnapshot, float]] = {}


def forget_game(slug: str) -> None:
    _game_cache.pop(slug, None)


async def find_game(slug: str, session: AsyncSession | None = None) -> GameSnapshot:
    """The game by slug; cached briefly, since its ranking rules cannot change once scored.

    When the entry expires under load, one lookup per event loop refreshes it and the other
    requests wait for that one (a burst of misses would otherwise open a connection each).
    """
    cached = _game_cache.get(slug)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    if session is not None:
        return _remember(slug, await session.scalar(select(Game).where(Game.slug == slug)))
    key = (id(asyncio.get_running_loop()), slug)
    lookup = _lookups.get(key)
    if lookup is None:
        lookup = _lookups[key] = asyncio.ensure_future(_load_game(slug))
        lookup.add_done_callback(lambda done: _lookup_done(key, done))
    return await asyncio.shield(lookup)


_lookups: dict[tuple[int, str], asyncio.Future[GameSnapshot]] = {}


async def _load_game(slug: str) -> GameSnapshot:
    async with db.session() as own:
        return _remember(slug, await own.scalar(select(Game).where(Game.slug == slug)))


def _lookup_done(key: tuple[int, str], done: asyncio.Future[GameSnapshot]) -> None:
    _lookups.pop(key, None)
    if not done.cancelled():
        done.exception()  # retrieved: a waiter that was cancelled meanwhile cannot see it


def _remember(slug: str, game: Game | None) -> GameSnapshot:
    if game is None:
        raise NotFound(f"No game {slug!r}", field="game")
    snapshot = GameSnapshot.of(game)
    _game_cache[slug] = (snapshot, time.monotonic() + GAME_CACHE_SECONDS)
    return snapshot


class GameService:
    """Games, created and changed by admins; the session is owned by the caller."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, data: GameCreate) -> Game:
        if data.slug == GLOBAL_SLUG:
            raise Invalid("slug", "`global` names the global board; choose another slug")
        exists = await self.session.scalar(select(Game.id).where(Game.slug == data.slug))
        if exists is not None:
            raise Conflict(f"A game with slug {data.slug!r} exists", field="slug")
        game = Game(
            slug=data.slug,
            name=data.name,
            sort_order=data.sort_order,
            operator=data.operator,
            max_score=data.max_score,
        )
        self.session.add(game)
        await self.session.flush()
        return game

    async def list_games(self) -> list[Game]:
        return list(await self.session.scalars(select(Game).order_by(Game.slug)))

    async def get(self, slug: str) -> Game:
        game = await self.session.scalar(select(Game).where(Game.slug == slug))
        if game is None:
            raise NotFound(f"No game {slug!r}", field="game")
        return game

    async def update(self, slug: str, changes: GameUpdate) -> Game:
        """Rename freely; sort order, operator and maximum are fixed once a score exists."""
        game = await self.get(slug)
        ruled = {
            "sort_order": changes.sort_order,
            "operator": changes.operator,
            "max_score": changes.max_score,
        }
        changing = [
            name
            for name, value in ruled.items()
            if value is not UNSET and value != getattr(game, name)
        ]
        if changing:
            scored = await self.session.scalar(
                select(Score.id).where(Score.game_id == game.id).limit(1)
            )
            if scored is not None:
                raise Conflict(
                    f"{changing[0]} is fixed once scores exist for this game", field=changing[0]
                )
            for name in changing:
                setattr(game, name, ruled[name])
        if changes.name is not UNSET:
            game.name = changes.name
        await self.session.flush()
        forget_game(slug)
        return game


def _unavailable(exc: BaseException) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The ranking index (Redis) is unavailable ({type(exc).__name__}); try again shortly"
    )


def _rows(flat: Sequence[Any], first_rank: int) -> list[BoardRow]:
    return [
        BoardRow(
            rank=first_rank + i // 3,
            user_id=UUID(flat[i]),
            display_name=flat[i + 2],
            score=int(float(flat[i + 1])),
        )
        for i in range(0, len(flat), 3)
    ]


@dataclass(frozen=True)
class BoardRef:
    """One board: a game's (all-time or current period) or the global one."""

    base: str
    sign: int
    label: str

    @property
    def zset(self) -> str:
        return f"{self.base}:z"


async def board_ref(slug: str, period: str) -> BoardRef:
    if slug == GLOBAL_SLUG:
        if period != "all":
            raise Invalid("period", "The global board has no periods; use period=all")
        return BoardRef(boards.board_base(boards.GLOBAL), 1, "global")
    game = await find_game(slug)
    kind = boards.PERIOD_OF_BOARD.get(period, "all")
    return BoardRef(boards.board_base(game.id.hex, kind), game.index.sign, period)


class BoardReader:
    """Reads of the boards, all from Redis (one script call each)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def top(self, ref: BoardRef, *, limit: int, offset: int) -> tuple[list[BoardRow], int]:
        try:
            flat = await boards.SCRIPTS.call(
                self.redis,
                "top",
                [ref.zset, boards.NAMES_KEY],
                [offset, offset + limit - 1, ref.sign],
            )
        except (RedisError, OSError) as exc:
            raise _unavailable(exc) from exc
        return _rows(flat[1:], offset + 1), int(flat[0])

    async def rank(self, ref: BoardRef, user_id: UUID, *, around: int) -> PlayerRank:
        started = time.perf_counter()
        try:
            result = await boards.SCRIPTS.call(
                self.redis,
                "rank",
                [ref.zset, f"{ref.base}:m", boards.NAMES_KEY],
                [str(user_id), around, ref.sign],
            )
        except (RedisError, OSError) as exc:
            raise _unavailable(exc) from exc
        finally:
            RANK_QUERY_SECONDS.labels(ref.label).observe(time.perf_counter() - started)
        if not result:
            raise NotFound(f"User {user_id} has no score on this board", field="user_id")
        rank, score, total, first = int(result[0]) + 1, result[1], int(result[2]), int(result[3])
        return PlayerRank(
            rank=rank,
            score=int(float(score)),
            percentile=round(100.0 * (total - rank + 1) / total, 2),
            around=_rows(result[4:], first + 1),
        )


@dataclass(frozen=True)
class ReportQuery:
    game: str
    start: datetime
    end: datetime
    limit: int


class ReportService:
    """Top players of any period, answered from the score history (not from Redis)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def top_players(self, query: ReportQuery) -> tuple[GameSnapshot, list[ReportRow]]:
        ensure_storable(query.start, "from")
        ensure_storable(query.end, "to")
        if query.end <= query.start:
            raise Invalid("to", "`to` must be later than `from`")
        game = await find_game(query.game, self.session)
        in_period = and_(
            Score.game_id == game.id,
            Score.submitted_at >= query.start.astimezone(UTC),
            Score.submitted_at < query.end.astimezone(UTC),
        )
        high = game.sort_order == "high_first"
        better = Score.score.desc() if high else Score.score.asc()
        if game.operator == "sum":
            reached = func.max(case((Score.score != 0, Score.submitted_at)))
            standing = (
                select(
                    Score.user_id,
                    func.sum(Score.score).label("score"),
                    func.coalesce(reached, func.min(Score.submitted_at)).label("reached_at"),
                )
                .where(in_period)
                .group_by(Score.user_id)
                .subquery()
            )
        else:
            order: list[Any] = (
                [better, Score.submitted_at.asc()]
                if game.operator == "best"
                else [Score.submitted_at.desc(), better]
            )
            numbered = (
                select(
                    Score.user_id,
                    Score.score.label("score"),
                    Score.submitted_at.label("reached_at"),
                    over(func.row_number(), partition_by=Score.user_id, order_by=order).label("n"),
                )
                .where(in_period)
                .subquery()
            )
            standing = (
                select(numbered.c.user_id, numbered.c.score, numbered.c.reached_at)
                .where(numbered.c.n == 1)
                .subquery()
            )
        score_order = standing.c.score.desc() if high else standing.c.score.asc()
        rows = await self.session.execute(
            select(standing.c.user_id, standing.c.score, standing.c.reached_at, Player.display_name)
            .outerjoin(Player, Player.user_id == standing.c.user_id)
            .order_by(score_order, standing.c.reached_at.asc())
            .limit(query.limit)
        )
        return game, [
            ReportRow(
                rank=i + 1,
                user_id=row.user_id,
                display_name=row.display_name or "",
                score=int(row.score),
                reached_at=row.reached_at,
            )
            for i, row in enumerate(rows)
        ]
