"""Boards written before the hash held standings (`<tie>:<user>` entries) stay usable: the
APPLY script reads their standing from the sorted set, RANK finds their member, and the first
change rewrites the entry in the current form (`<tie>:<standing>`)."""

from __future__ import annotations

import uuid
from typing import Any

from apps.kernel.cache import get_redis
from apps.leaderboard import boards
from tests.apps.leaderboard.helpers import run


def test_an_entry_in_the_earlier_form_is_read_through_the_sorted_set(stack: Any) -> None:
    game = boards.GameIndex(uuid.uuid4().hex, "high_first", "sum")
    user, other = str(uuid.uuid4()), str(uuid.uuid4())
    base = boards.board_base(game.id)
    earlier_t = 1_700_000_000_000_000

    async def scenario() -> tuple[Any, ...]:
        redis = get_redis()
        tie = boards.tie_of(earlier_t)
        # The earlier form: the hash holds the member itself, the standing is only in the zset.
        await redis.zadd(f"{base}:z", {f"{tie}:{user}": 40, f"{tie}:{other}": 30})
        await redis.hset(f"{base}:m", mapping={user: f"{tie}:{user}", other: f"{tie}:{other}"})
        ranked = await boards.SCRIPTS.call(
            redis, "rank", [f"{base}:z", f"{base}:m", boards.NAMES_KEY], [user, 1, 1]
        )
        sub = boards.Submission(uuid.uuid4().hex, user, "Ada", 5, earlier_t + 10)
        _totals, (applied,) = boards.parse_applied(
            await boards.SCRIPTS.call(redis, "apply", *boards.apply_batch([(game, sub)]))
        )
        board = await redis.zrevrange(f"{base}:z", 0, -1, withscores=True)
        entries = await redis.hgetall(f"{base}:m")
        await redis.delete(f"{base}:z", f"{base}:m")
        global_base = boards.board_base(boards.GLOBAL)
        global_entry = await redis.hget(f"{global_base}:m", user)
        await redis.zrem(f"{global_base}:z", f"{boards.tie_of(sub.t_us)}:{user}")
        await redis.hdel(f"{global_base}:m", user)
        return ranked, applied, board, entries, global_entry

    ranked, applied, board, entries, global_entry = run(scenario)
    assert [int(ranked[0]), float(ranked[1])] == [0, 40.0]
    # sum: 40 read from the sorted set, plus 5, reached now (the tie moves to this submission).
    assert (applied.board_score, applied.rank, applied.old_rank) == (45, 1, 1)
    tie = boards.tie_of(earlier_t)
    now_tie = boards.tie_of(earlier_t + 10)
    assert board == [(f"{now_tie}:{user}", 45.0), (f"{tie}:{other}", 30.0)]
    assert entries == {user: f"{now_tie}:45", other: f"{tie}:{other}"}
    # The global board gained the change (5) in the current form.
    assert global_entry == f"{now_tie}:5"
