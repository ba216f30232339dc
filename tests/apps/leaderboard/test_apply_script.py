"""The APPLY script on its own: deferral while a game is rebuilt, the rate counters it keeps,
and the shared per-minute limit seen by a second process (a second intake)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from apps.kernel.cache import get_redis
from apps.kernel.errors import TooManyRequests
from apps.leaderboard import boards, submissions
from apps.leaderboard.services import find_game
from tests.apps.leaderboard.helpers import make_game, run
from tests.conftest import Account


def test_a_game_being_rebuilt_parks_submissions_and_counters_add_up(stack: Any) -> None:
    game = boards.GameIndex(uuid.uuid4().hex, "high_first", "best")
    # A name holding the payload separator still parses back: it is the last field.
    sub = boards.Submission(
        uuid.uuid4().hex, str(uuid.uuid4()), "Ada | the first", 42, 1_700_000_000_000_000
    )
    counter = f"test:counter:{uuid.uuid4().hex}"
    counted = [(sub.user_id, 2)]

    async def scenario() -> tuple[Any, ...]:
        redis = get_redis()
        await redis.set(boards.rebuild_flag(game.id), "1")
        keys, args = boards.apply_batch([(game, sub)], counter, counted, 60)
        parked = boards.parse_applied(await boards.SCRIPTS.call(redis, "apply", keys, args), 1)
        waiting = await redis.lrange(boards.deferred_list(game.id), 0, -1)
        await redis.delete(boards.rebuild_flag(game.id))
        keys, args = boards.apply_batch([(game, sub)], counter, [(sub.user_id, 3)], 60)
        applied = boards.parse_applied(await boards.SCRIPTS.call(redis, "apply", keys, args), 1)
        ttl = await redis.ttl(counter)
        return parked, waiting, applied, ttl

    parked, waiting, applied, ttl = run(scenario)
    assert parked == ([2], [boards.Applied(deferred=True)])
    assert [boards.parse_deferred(item) for item in waiting] == [(game.id, sub)]
    assert applied == ([5], [boards.Applied(False, 42, 1, None)])
    assert 0 < ttl <= 60


def test_a_second_process_sees_the_shared_count_after_its_first_batch(
    client: TestClient[Any], admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADERBOARD_SUBMISSIONS_PER_MINUTE", "3")
    slug = make_game(client, admin)
    player = uuid.uuid4()

    async def submit_all(count: int) -> list[str]:
        game = await find_game(slug)
        outcomes = []
        for score in range(count):
            try:
                await submissions.submit_score(game, player, "Ada", score, None)
                outcomes.append("ok")
            except TooManyRequests:
                outcomes.append("429")
        return outcomes

    # Each run is a new event loop, so a new intake: another process, as far as limits go.
    assert run(lambda: submit_all(3)) == ["ok", "ok", "ok"]
    assert run(lambda: submit_all(2)) == ["ok", "429"]


def test_the_held_link_reloads_a_flushed_script_and_drops_a_failed_connection(
    stack: Any,
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    game = boards.GameIndex(uuid.uuid4().hex, "high_first", "sum")
    user = str(uuid.uuid4())

    def one(score: int, t_us: int) -> tuple[list[str], list[Any]]:
        sub = boards.Submission(uuid.uuid4().hex, user, "Ada", score, t_us)
        return boards.apply_batch([(game, sub)])

    async def scenario() -> tuple[Any, ...]:
        link = boards.ScriptLink(get_redis())
        first = boards.parse_applied(await link.call("apply", *one(5, 10)))[1][0]
        await get_redis().script_flush()
        reloaded = boards.parse_applied(await link.call("apply", *one(7, 20)))[1][0]
        held = link.connection

        async def fail(*parts: Any) -> Any:
            raise RedisConnectionError("the connection broke mid-call")

        link._command = fail  # type: ignore[method-assign]
        failed = None
        try:
            await link.call("apply", *one(100, 30))
        except RedisConnectionError as exc:
            failed = exc
        dropped = link.connection, held.is_connected
        del link._command  # back to the class's
        after = boards.parse_applied(await link.call("apply", *one(2, 40)))[1][0]
        await link.close()
        return first, reloaded, failed, dropped, after

    first, reloaded, failed, dropped, after = run(scenario)
    assert (first.board_score, reloaded.board_score) == (5, 12)
    # The failed call let go of its connection, closed: nobody reads its leftovers.
    assert failed is not None and dropped == (None, False)
    assert after.board_score == 14  # the failed call changed nothing


def test_totals_read_back_for_a_window_that_has_ended_do_not_count_in_the_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [submissions.RATE_WINDOW_SECONDS * 1000 + 50.0]
    monkeypatch.setattr(submissions.time, "time", lambda: clock[0])
    rate = submissions.RateLimit()
    assert rate.take("ada", 3) and rate.take("ada", 3)
    key, sent = rate.pending()
    # The batch's script call is in flight when the minute turns.
    clock[0] += submissions.RATE_WINDOW_SECONDS
    assert rate.take("ada", 3)
    rate.synced(key, sent, [2])
    # Only the new window's own submission counts: two more are allowed, not zero.
    assert rate.take("ada", 3) and rate.take("ada", 3)
    assert not rate.take("ada", 3)
    # In the same window, the totals read back become the shared count.
    key, sent = rate.pending()
    rate.synced(key, sent, [3])
    assert rate.unsent == {} and rate.shared == {"ada": 3}
