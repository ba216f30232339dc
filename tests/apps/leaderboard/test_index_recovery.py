"""The Redis index is rebuilt from the database: after FLUSHDB, and after Redis was down."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest
from litestar.testing import TestClient
from redis.asyncio import Redis
from typer.testing import CliRunner

from apps.leaderboard import boards
from tests.apps.leaderboard.helpers import board_contents, make_game, run, submit, top
from tests.conftest import Account, Stack, sign_up


def _snapshot(game_ids: list[str]) -> dict[str, list[tuple[str, float]]]:
    bases = [boards.board_base(boards.GLOBAL)]
    for game_id in game_ids:
        bases.append(boards.board_base(game_id))
        bases += [boards.board_base(game_id, period) for period in boards.PERIODS]

    async def read() -> dict[str, list[tuple[str, float]]]:
        return {base: await board_contents(base) for base in bases}

    return run(read)


def _game_id(client: TestClient[Any], slug: str) -> str:
    return str(client.get(f"/leaderboard/games/{slug}").json()["id"]).replace("-", "")


def _flushdb() -> None:
    """FLUSHDB of this test run's own Redis database index (REDIS_URL), or the embedded fake."""

    async def flush() -> None:
        from apps.kernel.cache import get_redis

        await get_redis().flushdb()

    run(flush)


def _rebuild_cli(*args: str) -> str:
    from apps.cli import app

    result = CliRunner().invoke(app, ["leaderboard", "rebuild", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_rebuild_after_flushdb_restores_identical_rankings(
    client: TestClient[Any], admin: Account
) -> None:
    slugs = [
        make_game(client, admin, operator="best"),
        make_game(client, admin, operator="sum"),
        make_game(client, admin, operator="latest", sort_order="low_first"),
    ]
    players = [sign_up(client, name=f"F{i}") for i in range(6)]
    for round_ in range(3):
        for i, account in enumerate(players):
            for slug in slugs:
                submit(client, account, slug, (i * 7 + round_ * 5) % 11)
    ids = [_game_id(client, slug) for slug in slugs]
    before = _snapshot(ids)
    assert all(before[boards.board_base(game_id)] for game_id in ids)
    _flushdb()
    assert client.get(f"/leaderboard/games/{slugs[0]}/top").json()["items"] == []
    output = _rebuild_cli()
    assert "rebuilt" in output
    after = _snapshot(ids)
    # The global board also holds other tests' players: compare ours, and the game boards whole.
    for base, rows in before.items():
        if base == boards.board_base(boards.GLOBAL):
            ours = {p.id for p in players}
            assert [r for r in after[base] if r[0][17:] in ours] == [
                r for r in rows if r[0][17:] in ours
            ]
        else:
            assert after[base] == rows, base
    assert top(client, slugs[0])[0]["display_name"].startswith("F")


def test_rebuild_of_one_game_and_an_unknown_game(client: TestClient[Any], admin: Account) -> None:
    slug = make_game(client, admin, sort_order="low_first")
    runner = sign_up(client, name="Solo")
    submit(client, runner, slug, 12)
    assert "1 games" in _rebuild_cli("--game", slug)
    assert top(client, slug)[0]["score"] == 12
    from apps.cli import app

    assert CliRunner().invoke(app, ["leaderboard", "rebuild", "--game", "nope"]).exit_code == 2


def _dead_redis(stack: Stack) -> Any:
    if stack.real:
        return lambda: Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    return lambda: fakeredis.FakeAsyncRedis(connected=False, decode_responses=True)


def test_with_redis_down_scores_are_stored_reads_answer_503_and_rebuild_repairs(
    client: TestClient[Any],
    stack: Stack,
    user: Account,
    admin: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slug = make_game(client, admin, operator="sum")
    submit(client, user, slug, 4)
    with monkeypatch.context() as patched:
        patched.setattr("apps.leaderboard.services.index_redis", _dead_redis(stack))
        stored = submit(client, user, slug, 6)
        assert stored.status_code == 201, stored.text
        assert stored.json()["indexed"] is False
        for path in (
            f"/leaderboard/games/{slug}/top",
            "/leaderboard/global/top",
            f"/leaderboard/games/{slug}/players/{user.id}/rank",
        ):
            down = client.get(path)
            assert down.status_code == 503, (path, down.text)
            assert down.headers["content-type"].startswith("application/problem+json")
        mine = client.get(f"/leaderboard/games/{slug}/me/rank", headers=user.headers)
        assert mine.status_code == 503
    assert top(client, slug)[0]["score"] == 4
    _rebuild_cli("--game", slug)
    assert top(client, slug)[0]["score"] == 10
