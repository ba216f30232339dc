"""Rebuild the Redis boards from the score history (the database is the source of truth).

1. Flag the games: from now on their submissions are still stored, and the APPLY script
   parks them in a per-game list instead of touching the boards.
2. Replay the history in time order with the same merges as APPLY into temporary keys.
3. One script swaps every temporary board in, deletes boards the history no longer has,
   lifts the flags and hands back the parked submissions; those not already in the replayed
   snapshot are applied to the new boards.

A `high_first` game shares the global board with the other `high_first` games, so rebuilding
one of them rebuilds all of them (and the global board).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import func, select

from apps.kernel import db
from apps.kernel.errors import NotFound
from apps.leaderboard import boards
from apps.leaderboard.models import Game, Player, Score
from apps.leaderboard.services import GameSnapshot

FLAG_SECONDS = 900
CHUNK = 1000
TMP = ":rebuild"

Progress = Callable[[int, int], None]
"""Called with (rows replayed so far, rows in all)."""


@dataclass(frozen=True)
class RebuildResult:
    games: list[str]
    rows: int
    boards: int
    deferred_applied: int


async def games_to_rebuild(slug: str | None) -> list[GameSnapshot]:
    async with db.session() as session:
        rows = await session.scalars(select(Game).order_by(Game.slug))
        games = [GameSnapshot.of(g) for g in rows]
    if slug is None:
        return games
    chosen = [g for g in games if g.slug == slug]
    if not chosen:
        raise NotFound(f"No game {slug!r}", field="game")
    if chosen[0].sort_order == "high_first":
        return [g for g in games if g.sort_order == "high_first"]
    return chosen


async def rebuild(
    redis: Redis, slug: str | None = None, progress: Progress | None = None
) -> RebuildResult:
    """Rebuild the boards of one game (and its global partners) or of every game."""
    games = await games_to_rebuild(slug)
    by_id = {g.id: g for g in games}
    by_hex = {g.id.hex: g for g in games}
    with_global = any(g.index.in_global for g in games)
    for game in games:
        await redis.set(boards.rebuild_flag(game.id.hex), "1", ex=FLAG_SECONDS)
    replay = boards.Replay.start(datetime.now(UTC))
    snapshot: set[str] = set()
    async with db.session() as session:
        total = int(
            await session.scalar(
                select(func.count()).select_from(Score).where(Score.game_id.in_(list(by_id)))
            )
            or 0
        )
        players = await session.execute(select(Player.user_id, Player.display_name))
        names = {str(user_id): name for user_id, name in players}
        stream = await session.stream(
            select(Score.id, Score.game_id, Score.user_id, Score.score, Score.submitted_at)
            .where(Score.game_id.in_(list(by_id)))
            .order_by(Score.submitted_at, Score.id)
            .execution_options(yield_per=CHUNK)
        )
        done = 0
        async for row in stream:
            user = str(row.user_id)
            t_us = boards.micros(row.submitted_at)
            sub = boards.Submission(row.id.hex, user, names.get(user, ""), row.score, t_us)
            replay.feed(by_id[row.game_id].index, sub)
            snapshot.add(row.id.hex)
            done += 1
            if progress and done % CHUNK == 0:
                progress(done, total)
    if progress:
        progress(done, total)
    written = await _write_temporary(redis, replay)
    bases = [boards.board_base(g.id.hex) for g in games]
    if with_global:
        bases.append(boards.board_base(boards.GLOBAL))
    bases += [b for b in written if b not in bases]
    pairs = [(f"{b}{TMP}:{kind}", f"{b}:{kind}") for b in bases for kind in ("z", "m")]
    live_keys = {live for _tmp, live in pairs}
    stale: list[str] = []
    for game in games:
        async for key in redis.scan_iter(match=f"lb:g:{game.id.hex}:*", count=1000):
            name = key if isinstance(key, str) else key.decode()
            if name in live_keys or TMP in name or name.endswith((":rebuilding", ":deferred")):
                continue
            stale.append(name)
    flags = [boards.rebuild_flag(g.id.hex) for g in games]
    lists = [boards.deferred_list(g.id.hex) for g in games]
    keys = [*flags, *lists, *[k for pair in pairs for k in pair], *stale]
    parked = await boards.SCRIPTS.call(redis, "swap", keys, [len(games), len(pairs)])
    applied = 0
    items = []
    for item in parked:
        game_id, sub = boards.parse_deferred(item if isinstance(item, str) else item.decode())
        if sub.id in snapshot:
            continue
        items.append((by_hex[game_id].index, sub))
    if items:
        await boards.SCRIPTS.call(redis, "apply", *boards.apply_batch(items))
        applied = len(items)
    return RebuildResult([g.slug for g in games], done, len(written), applied)


async def _write_temporary(redis: Redis, replay: boards.Replay) -> list[str]:
    """Write every replayed board under `<base>:rebuild:z|m`; returns the bases written."""
    pipe = redis.pipeline(transaction=False)
    for base in replay.boards:
        pipe.delete(f"{base}{TMP}:z", f"{base}{TMP}:m")
    if replay.names:
        pipe.hset(boards.NAMES_KEY, mapping=dict(replay.names))  # type: ignore[arg-type]
    await pipe.execute()
    for base in replay.boards:
        entries = list(replay.zset_entries(base))
        standings = replay.hash_entries(base)
        for start in range(0, len(entries), CHUNK):
            chunk = entries[start : start + CHUNK]
            pipe = redis.pipeline(transaction=False)
            pipe.zadd(f"{base}{TMP}:z", {member: score for _u, score, member in chunk})
            pipe.hset(
                f"{base}{TMP}:m",
                mapping={user: standings[user] for user, _s, _member in chunk},
            )
            await pipe.execute()
        expiry = replay.expiries.get(base)
        if expiry and entries:
            await redis.expireat(f"{base}{TMP}:z", expiry)
            await redis.expireat(f"{base}{TMP}:m", expiry)
    return list(replay.boards)
