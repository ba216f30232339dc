"""The Redis index of the boards: sorted sets updated atomically by Lua, rebuilt from the DB.

Layout (every board is a pair: a sorted set and a hash user -> `<tie>:<standing>`)::

    lb:g:<game>:all:z / :m            the game's all-time board
    lb:g:<game>:day:2026-12-04:z / :m  daily, weekly (2026-W49) and monthly (2026-12) boards,
                                      expiring one period after they end
    lb:global:z / :m                  the global board (sum over the high_first games)
    lb:names                          user id -> display name

Ties: a member is `<tie>:<user id>` where `tie` is `9999999999999999 - t` (t = the time the
player reached their standing, in microseconds since the epoch, 16 digits). Sorted-set scores
hold the exact standing (negated on low_first boards, so every board reads best-first with
ZREVRANGE), and Redis orders equal scores by member, which is the tie string: whoever
reached the score first comes first, never user-id order. Because the member changes when
the standing does, no single ZADD/ZINCRBY can keep both rules; a Lua script updates every
board of the game (and the global board) atomically, one call for a whole batch of
submissions applied in order.

A board's hash gives each user's tie and standing, so the script needs no sorted-set lookup
to find either (the member is `<tie>:<user>`). Indexes written before the hash held
standings have `<tie>:<user>` there; the script then reads the standing from the sorted set.

Operators, as merges that the Lua script and the rebuild's replay apply identically:
`best` keeps the better score (an equal score reached earlier keeps the earlier time);
`sum` adds every non-zero score (reached when the total last changed); `latest` keeps the
most recent submission (reached when it was submitted).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

MAX_T = 10**16 - 1
INDEX_TIMEOUT = 5.0
"""Seconds any one operation on the index may take: script calls, live pushes."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAMES_KEY = "lb:names"
GLOBAL = "global"
PERIODS = ("day", "week", "month")
BOARD_PERIODS = ("all", "daily", "weekly", "monthly")
PERIOD_OF_BOARD = {"daily": "day", "weekly": "week", "monthly": "month"}


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (no float rounding)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def tie_of(t_us: int) -> str:
    return f"{MAX_T - t_us:016d}"


def member_user(member: str) -> str:
    return member[17:]


def period_bounds(period: str, moment: datetime) -> tuple[str, datetime, datetime]:
    """(label, start, end) of the UTC day, ISO week or month holding `moment`."""
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if period == "day":
        return day.strftime("%Y-%m-%d"), day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}", start, start + timedelta(days=7)
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start.strftime("%Y-%m"), start, end


def period_expiry(period: str, moment: datetime) -> int:
    """Epoch seconds when the period's board expires: one period after it ends."""
    _label, start, end = period_bounds(period, moment)
    month_after = (end + timedelta(days=32)).replace(day=1)
    after = month_after if period == "month" else end + (end - start)
    return int(after.timestamp())


def board_base(game_id: str, period: str = "all", moment: datetime | None = None) -> str:
    if game_id == GLOBAL:
        return "lb:global"
    if period == "all":
        return f"lb:g:{game_id}:all"
    label, _start, _end = period_bounds(period, moment or datetime.now(UTC))
    return f"lb:g:{game_id}:{period}:{label}"


def rebuild_flag(game_id: str) -> str:
    return f"lb:g:{game_id}:rebuilding"


def deferred_list(game_id: str) -> str:
    return f"lb:g:{game_id}:deferred"


# One call applies a whole batch of submissions, in order, and adds the batch's counts to
# the per-user counters of the current rate window (the rate limits), so a batch costs one
# command and one round trip.
# KEYS: names, global zset, global hash, the counter hash if C > 0, then per group (a game on
#       one UTC day) 10 keys: rebuild flag, deferred list, zset/hash pairs of the
#       all/day/week/month boards.
# ARGV: G groups, C counters, counter ttl; G heads "game|operator|sign|has_global|exp day|
#       exp week|exp month" (sign 1 high_first, -1 low_first); C (user, count) pairs; then
#       7 per submission: group, tie, id, user, score, t_us, name.
# Returns the C counter totals, then per submission "d" (deferred: the game is being
# rebuilt) or "a|standing|rank0|old rank0" (old rank0 -1 when unranked before).
# Each group's rebuild flag is read once: nothing else runs while a script does.
APPLY = """
local function num(x) return string.format('%.17g', x) end
local groups, counters, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local base = 3
if counters > 0 then
  base = 4
  for c = 1, counters do
    local at = 3 + groups + 2 * c
    out[c] = redis.call('HINCRBY', KEYS[4], ARGV[at - 1], ARGV[at])
  end
  redis.call('EXPIRE', KEYS[4], ttl)
end
local heads = {}
for g = 1, groups do
  local game, op, sign, global, d, w, m = string.match(ARGV[3 + g],
    '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
  local k = base + 10 * (g - 1)
  heads[g] = {game = game, op = op, sign = tonumber(sign), global = global == '1', k = k,
              expire = {tonumber(d), tonumber(w), tonumber(m)},
              parked = redis.call('EXISTS', KEYS[k + 1]) == 1}
end
-- A user's member, standing and tie on a board, from its hash ("<tie>:<standing>"; an index
-- written before the hash held standings has "<tie>:<user>": the sorted set has the score).
local function entry_of(z, h, user, sign)
  local entry = redis.call('HGET', h, user)
  if not entry then return false end
  local tie = string.sub(entry, 1, 16)
  local member = tie .. ':' .. user
  local standing = tonumber(string.sub(entry, 18))
  if standing == nil then standing = tonumber(redis.call('ZSCORE', z, member)) * sign end
  return member, standing, tie
end
-- One board's update; returns the standing before and after, the member, and whether the
-- board changed. `old_member`, `old_score`, `old_tie`: the user's entry (false: unranked).
local function board(z, h, old_member, old_score, old_tie, user, score, tie, op, sign,
                     expire_at)
  local better
  if sign == 1 then better = score > (old_score or 0) else better = score < (old_score or 0) end
  local new_score, new_tie
  if not old_member then
    new_score, new_tie = score, tie
  elseif op == 'best' then
    if better or (score == old_score and tie > old_tie) then new_score, new_tie = score, tie end
  elseif op == 'sum' then
    if score ~= 0 then
      new_score = old_score + score
      if tie < old_tie then new_tie = tie else new_tie = old_tie end
    end
  else
    if tie < old_tie or (tie == old_tie and better) then new_score, new_tie = score, tie end
  end
  if new_score == nil then return old_score, old_score, old_member, false end
  local member = new_tie .. ':' .. user
  if old_member and old_member ~= member then redis.call('ZREM', z, old_member) end
  redis.call('ZADD', z, num(new_score * sign), member)
  redis.call('HSET', h, user, new_tie .. ':' .. num(new_score))
  if expire_at > 0 then
    redis.call('EXPIREAT', z, expire_at)
    redis.call('EXPIREAT', h, expire_at)
  end
  return old_score, new_score, member, true
end
for i = 4 + groups + 2 * counters, #ARGV, 7 do
  local head, tie, user = heads[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 3]
  local k = head.k
  if head.parked then
    redis.call('RPUSH', KEYS[k + 2], table.concat({head.game, ARGV[i + 2], user, ARGV[i + 4],
                                                   ARGV[i + 5], ARGV[i + 6]}, '|'))
    out[#out + 1] = 'd'
  else
    local score = tonumber(ARGV[i + 4])
    redis.call('HSET', KEYS[1], user, ARGV[i + 6])
    local old_member, old_score, old_tie = entry_of(KEYS[k + 3], KEYS[k + 4], user, head.sign)
    local old_rank = -1
    if old_member then old_rank = redis.call('ZREVRANK', KEYS[k + 3], old_member) end
    local before, after, member, changed = board(KEYS[k + 3], KEYS[k + 4], old_member,
      old_score, old_tie, user, score, tie, head.op, head.sign, 0)
    for p = 0, 2 do
      local z, h = KEYS[k + 5 + 2 * p], KEYS[k + 6 + 2 * p]
      local m, s, t = entry_of(z, h, user, head.sign)
      board(z, h, m, s, t, user, score, tie, head.op, head.sign, head.expire[p + 1])
    end
    if head.global and after ~= (before or 0) then
      local total = after - (before or 0)
      local g_member, g_total = entry_of(KEYS[2], KEYS[3], user, 1)
      if g_member then
        total = g_total + total
        redis.call('ZREM', KEYS[2], g_member)
      end
      redis.call('ZADD', KEYS[2], num(total), tie .. ':' .. user)
      redis.call('HSET', KEYS[3], user, tie .. ':' .. num(total))
    end
    local rank = old_rank
    if changed then rank = redis.call('ZREVRANK', KEYS[k + 3], member) end
    out[#out + 1] = 'a|' .. num(after) .. '|' .. rank .. '|' .. old_rank
  end
end
return out
"""

# KEYS: zset, names. ARGV: start, stop, sign. Returns {total, user, score, name, ...}.
TOP = """
local rows = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
local sign = tonumber(ARGV[3])
local function num(x) return string.format('%.17g', x) end
local out = {redis.call('ZCARD', KEYS[1])}
for i = 1, #rows, 2 do
  local user = string.sub(rows[i], 18)
  out[#out + 1] = user
  out[#out + 1] = num(tonumber(rows[i + 1]) * sign)
  out[#out + 1] = redis.call('HGET', KEYS[2], user) or ''
end
return out
"""

# KEYS: zset, hash, names. ARGV: user, around, sign.
# Returns {} when unranked, else {rank0, score, total, first_rank0, user, score, name, ...}.
RANK = """
local entry = redis.call('HGET', KEYS[2], ARGV[1])
if not entry then return {} end
local member = string.sub(entry, 1, 16) .. ':' .. ARGV[1]
local rank = redis.call('ZREVRANK', KEYS[1], member)
if not rank then return {} end
local sign = tonumber(ARGV[3])
local function num(x) return string.format('%.17g', x) end
local around = tonumber(ARGV[2])
local first = rank - around
if first < 0 then first = 0 end
local out = {rank, num(tonumber(redis.call('ZSCORE', KEYS[1], member)) * sign),
             redis.call('ZCARD', KEYS[1]), first}
local rows = redis.call('ZREVRANGE', KEYS[1], first, rank + around, 'WITHSCORES')
for i = 1, #rows, 2 do
  local user = string.sub(rows[i], 18)
  out[#out + 1] = user
  out[#out + 1] = num(tonumber(rows[i + 1]) * sign)
  out[#out + 1] = redis.call('HGET', KEYS[3], user) or ''
end
return out
"""

# KEYS: flags..., then deferred lists..., then (tmp, live) pairs, then stale keys to delete.
# ARGV: number of games, number of pairs. Swaps every rebuilt board in at once, lifts the flags
# and hands back the submissions deferred while the rebuild ran.
SWAP = """
local games, pairs = tonumber(ARGV[1]), tonumber(ARGV[2])
local deferred = {}
for i = 1, games do
  local items = redis.call('LRANGE', KEYS[games + i], 0, -1)
  for _, item in ipairs(items) do deferred[#deferred + 1] = item end
  redis.call('DEL', KEYS[games + i], KEYS[i])
end
local base = 2 * games
for i = 1, pairs do
  local tmp, live = KEYS[base + 2 * i - 1], KEYS[base + 2 * i]
  if redis.call('EXISTS', tmp) == 1 then
    redis.call('RENAME', tmp, live)
  else
    redis.call('DEL', live)
  end
end
for i = base + 2 * pairs + 1, #KEYS do redis.call('DEL', KEYS[i]) end
return deferred
"""


class Scripts:
    """The Lua scripts of the boards, loaded once per client and reloaded after SCRIPT FLUSH."""

    SOURCES = {"apply": APPLY, "top": TOP, "rank": RANK, "swap": SWAP}

    def __init__(self) -> None:
        from hashlib import sha1

        self.sha = {
            name: sha1(source.encode(), usedforsecurity=False).hexdigest()
            for name, source in self.SOURCES.items()
        }

    async def load(self, redis: Redis) -> None:
        for source in self.SOURCES.values():
            await redis.script_load(source)

    async def call(
        self,
        redis: Redis,
        name: str,
        keys: Sequence[str],
        args: Sequence[Any],
    ) -> Any:
        """Run a script; TimeoutError (an OSError) if it has not answered in INDEX_TIMEOUT."""
        async with asyncio.timeout(INDEX_TIMEOUT):
            try:
                return await redis.evalsha(self.sha[name], len(keys), *keys, *args)  # type: ignore[misc]
            except NoScriptError:
                await self.load(redis)
                return await redis.evalsha(self.sha[name], len(keys), *keys, *args)  # type: ignore[misc]


SCRIPTS = Scripts()


class ScriptLink:
    """Script calls over one held connection, for a caller whose calls never overlap (the
    intake applies one batch at a time): no pool checkout, retry wrapper or per-read timer on
    each call. A whole call is bounded by INDEX_TIMEOUT; after any failure but a missing
    script the connection is dropped, since what it still holds to read is unknown."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.connection: Any = None

    async def call(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        async with asyncio.timeout(INDEX_TIMEOUT):
            if self.connection is None:
                self.connection = await self.redis.connection_pool.get_connection()
            evalsha = ("EVALSHA", SCRIPTS.sha[name], len(keys), *keys, *args)
            try:
                try:
                    return await self._command(*evalsha)
                except NoScriptError:  # a restarted server or SCRIPT FLUSH: load, run again
                    await self._command("SCRIPT", "LOAD", Scripts.SOURCES[name])
                    return await self._command(*evalsha)
            except BaseException:
                await self.close()
                raise

    async def _command(self, *parts: Any) -> Any:
        # Packed by hiredis straight from str and int: redis-py's per-argument encoding cost
        # more than the rest of a batch's call.
        await self.connection.send_packed_command(hiredis.pack_command(parts), check_health=False)
        return await self.connection.read_response()

    async def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            await connection.disconnect()
            await self.redis.connection_pool.release(connection)


@dataclass(frozen=True)
class GameIndex:
    """What the index needs to know about a game."""

    id: str
    sort_order: str
    operator: str

    @property
    def sign(self) -> int:
        return 1 if self.sort_order == "high_first" else -1

    @property
    def in_global(self) -> bool:
        return self.sort_order == "high_first"


@dataclass(frozen=True)
class Submission:
    """One history row as the index applies it."""

    id: str
    user_id: str
    display_name: str
    score: int
    t_us: int


@functools.lru_cache(maxsize=1024)
def _group_head(game: GameIndex, day: int) -> tuple[tuple[str, ...], str]:
    """The 10 keys and the head string APPLY needs for `game` on one UTC day (days since
    the epoch); the same for every batch of that day, so computed once."""
    moment = EPOCH + timedelta(days=day)
    keys = [rebuild_flag(game.id), deferred_list(game.id)]
    for base in [board_base(game.id)] + [board_base(game.id, p, moment) for p in PERIODS]:
        keys += [f"{base}:z", f"{base}:m"]
    expiries = "|".join(str(period_expiry(p, moment)) for p in PERIODS)
    head = f"{game.id}|{game.operator}|{game.sign}|{1 if game.in_global else 0}|{expiries}"
    return tuple(keys), head


DAY_US = 86_400 * 10**6


def apply_batch(
    items: Sequence[tuple[GameIndex, Submission]],
    counter_key: str = "",
    counts: Sequence[tuple[str, int]] = (),
    counter_ttl: int = 120,
) -> tuple[list[str], list[Any]]:
    """Keys and arguments of one APPLY call: `items` applied in the order given, and each
    `(user, count)` of `counts` added to the user's field of the hash `counter_key` (which
    then expires in `counter_ttl`)."""
    keys = [NAMES_KEY, f"{board_base(GLOBAL)}:z", f"{board_base(GLOBAL)}:m"]
    if counts:
        keys.append(counter_key)
    heads: list[str] = []
    rows: list[Any] = []
    groups: dict[tuple[str, int], int] = {}
    for game, sub in items:
        group_key = (game.id, sub.t_us // DAY_US)
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = len(groups) + 1
            group_keys, head = _group_head(game, group_key[1])
            keys += group_keys
            heads.append(head)
        rows += (
            group,
            tie_of(sub.t_us),
            sub.id,
            sub.user_id,
            sub.score,
            sub.t_us,
            sub.display_name,
        )
    pairs = [part for pair in counts for part in pair]
    return keys, [len(groups), len(counts), counter_ttl, *heads, *pairs, *rows]


def parse_deferred(item: str) -> tuple[str, Submission]:
    """(game id, submission) of a submission parked while its game was being rebuilt."""
    game_id, sub_id, user_id, score, t_us, name = item.split("|", 5)
    return game_id, Submission(sub_id, user_id, name, int(score), int(t_us))


@dataclass(frozen=True)
class Applied:
    deferred: bool
    board_score: int | None = None
    rank: int | None = None
    """1-based rank on the all-time board after the submission."""
    old_rank: int | None = None


def parse_applied(result: Sequence[Any], counters: int = 0) -> tuple[list[int], list[Applied]]:
    """The counter totals and what APPLY did with each submission of its batch, in order."""
    outcomes = []
    for entry in result[counters:]:
        text = entry if isinstance(entry, str) else entry.decode()
        if text == "d":
            outcomes.append(Applied(deferred=True))
            continue
        _status, standing, rank, old = text.split("|")
        old_rank = int(old)
        outcomes.append(
            Applied(
                False,
                int(float(standing)),
                int(rank) + 1,
                old_rank + 1 if old_rank >= 0 else None,
            )
        )
    return [int(total) for total in result[:counters]], outcomes


# ---- the replay: the same merges in Python, for rebuilds and for checking the index ----------

Standing = tuple[int, str]
"""(score, tie string)."""


def merge(operator: str, sign: int, old: Standing | None, score: int, tie: str) -> Standing | None:
    """The new standing after one submission, or None when it does not change (as in APPLY)."""
    if old is None:
        return score, tie
    old_score, old_tie = old
    better = score > old_score if sign == 1 else score < old_score
    if operator == "best":
        if better or (score == old_score and tie > old_tie):
            return score, tie
        return None
    if operator == "sum":
        return (old_score + score, min(tie, old_tie)) if score != 0 else None
    if tie < old_tie or (tie == old_tie and better):
        return score, tie
    return None


@dataclass
class Replay:
    """Boards rebuilt from history rows fed in time order (`feed`), ready to be written."""

    now: datetime
    boards: dict[str, dict[str, Standing]]
    signs: dict[str, int]
    expiries: dict[str, int]
    names: dict[str, str]

    @classmethod
    def start(cls, now: datetime | None = None) -> Replay:
        return cls(now or datetime.now(UTC), {}, {}, {}, {})

    def _board(self, base: str, sign: int, expiry: int = 0) -> dict[str, Standing]:
        self.signs[base] = sign
        if expiry:
            self.expiries[base] = expiry
        return self.boards.setdefault(base, {})

    def feed(self, game: GameIndex, sub: Submission) -> None:
        moment = from_micros(sub.t_us)
        tie = tie_of(sub.t_us)
        self.names[sub.user_id] = sub.display_name
        main = self._board(board_base(game.id), game.sign)
        before = main.get(sub.user_id)
        changed = merge(game.operator, game.sign, before, sub.score, tie)
        if changed is not None:
            main[sub.user_id] = changed
        for period in PERIODS:
            expiry = period_expiry(period, moment)
            if expiry <= self.now.timestamp():
                continue
            board = self._board(board_base(game.id, period, moment), game.sign, expiry)
            new = merge(game.operator, game.sign, board.get(sub.user_id), sub.score, tie)
            if new is not None:
                board[sub.user_id] = new
        if game.in_global and changed is not None:
            delta = changed[0] - (before[0] if before else 0)
            if delta != 0:
                board = self._board(board_base(GLOBAL), 1)
                total = board.get(sub.user_id, (0, tie))[0] + delta
                board[sub.user_id] = (total, tie)

    def ranking(self, base: str) -> list[tuple[str, int]]:
        """(user, score) best first, exactly as Redis orders the board."""
        sign = self.signs.get(base, 1)
        rows = sorted(
            self.boards.get(base, {}).items(),
            key=lambda item: (item[1][0] * sign, f"{item[1][1]}:{item[0]}"),
            reverse=True,
        )
        return [(user, standing[0]) for user, standing in rows]

    def zset_entries(self, base: str) -> Iterable[tuple[str, float, str]]:
        """(user, sorted-set score, member) of one board."""
        sign = self.signs[base]
        for user, (score, tie) in self.boards[base].items():
            yield user, score * sign, f"{tie}:{user}"

    def hash_entries(self, base: str) -> dict[str, str]:
        """The board's hash: user -> `<tie>:<standing>`, as APPLY writes it."""
        return {user: f"{tie}:{score}" for user, (score, tie) in self.boards[base].items()}
