"""Games, submissions, ties, operators, ranks and the rules around them, over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.apps.leaderboard.helpers import make_game, submit, top
from tests.conftest import Account, sign_up


def test_only_admins_create_games_and_bad_input_names_the_field(
    client: TestClient[Any], user: Account, admin: Account
) -> None:
    body = {"slug": f"g-{uuid.uuid4().hex[:8]}", "name": "Space race"}
    assert client.post("/leaderboard/games", json=body, headers=user.headers).status_code == 403
    bad = client.post(
        "/leaderboard/games", json={**body, "operator": "median"}, headers=admin.headers
    )
    assert bad.status_code == 422 and bad.json()["field"] == "operator"
    bad_slug = client.post(
        "/leaderboard/games", json={**body, "slug": "Has Spaces\x00"}, headers=admin.headers
    )
    assert bad_slug.status_code == 422 and bad_slug.json()["field"] == "slug"
    assert client.post("/leaderboard/games", json=body, headers=admin.headers).status_code == 201
    again = client.post("/leaderboard/games", json=body, headers=admin.headers)
    assert again.status_code == 409 and again.json()["field"] == "slug"


def test_ranking_rules_are_fixed_once_scores_exist(
    client: TestClient[Any], user: Account, admin: Account
) -> None:
    slug = make_game(client, admin)
    path = f"/leaderboard/games/{slug}"
    changed = client.patch(path, json={"operator": "sum"}, headers=admin.headers)
    assert changed.status_code == 200 and changed.json()["operator"] == "sum"
    assert submit(client, user, slug, 5).status_code == 201
    refused = client.patch(path, json={"sort_order": "low_first"}, headers=admin.headers)
    assert refused.status_code == 409 and refused.json()["field"] == "sort_order"
    renamed = client.patch(path, json={"name": "Renamed"}, headers=admin.headers)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"


def test_best_keeps_the_highest_score_and_ranks_best_first(
    client: TestClient[Any], user: Account, other_user: Account, admin: Account
) -> None:
    slug = make_game(client, admin)
    first = submit(client, user, slug, 50)
    assert first.status_code == 201 and first.json()["rank"] == 1 and first.json()["indexed"]
    submit(client, other_user, slug, 70)
    lower = submit(client, user, slug, 10).json()
    assert lower["board_score"] == 50 and lower["rank"] == 2
    rows = top(client, slug)
    assert [(r["user_id"], r["score"], r["rank"]) for r in rows] == [
        (other_user.id, 70, 1),
        (user.id, 50, 2),
    ]
    assert rows[0]["display_name"] == "Bob"


def test_equal_scores_rank_by_who_reached_them_first_not_by_user_id(
    client: TestClient[Any], admin: Account
) -> None:
    slug = make_game(client, admin)
    players = sorted((sign_up(client, name=f"P{i}") for i in range(3)), key=lambda a: a.id)
    # The largest user id reaches 100 first, the smallest last: time, not id, must decide.
    for account in reversed(players):
        assert submit(client, account, slug, 100).status_code == 201
    submit(client, players[2], slug, 100)  # reaching it again changes nothing
    assert [r["user_id"] for r in top(client, slug)] == [p.id for p in reversed(players)]


def test_low_first_latest_and_sum_operators(
    client: TestClient[Any], user: Account, other_user: Account, admin: Account
) -> None:
    fastest = make_game(client, admin, sort_order="low_first", operator="best")
    submit(client, user, fastest, 30)
    submit(client, user, fastest, 40)
    submit(client, other_user, fastest, 35)
    assert [(r["user_id"], r["score"]) for r in top(client, fastest)] == [
        (user.id, 30),
        (other_user.id, 35),
    ]
    latest = make_game(client, admin, operator="latest")
    submit(client, user, latest, 90)
    submit(client, user, latest, 20)
    assert top(client, latest)[0]["score"] == 20
    total = make_game(client, admin, operator="sum")
    for score in (5, 7, -2):
        submit(client, user, total, score)
    assert top(client, total)[0]["score"] == 10


def test_a_score_above_the_plausible_maximum_is_refused(
    client: TestClient[Any], user: Account, admin: Account
) -> None:
    slug = make_game(client, admin, max_score=1000)
    refused = submit(client, user, slug, 1001)
    assert refused.status_code == 422 and refused.json()["field"] == "score"
    too_big = submit(client, user, slug, 10**13)
    assert too_big.status_code == 422 and too_big.json()["field"] == "score"
    not_a_number = client.post(
        f"/leaderboard/games/{slug}/scores", json={"score": "lots"}, headers=user.headers
    )
    assert not_a_number.status_code == 422 and not_a_number.json()["field"] == "score"
    assert top(client, slug) == []


def test_replaying_an_idempotency_key_changes_nothing(
    client: TestClient[Any], user: Account, admin: Account
) -> None:
    slug = make_game(client, admin, operator="sum")
    first = submit(client, user, slug, 40, key="run-1")
    replay = submit(client, user, slug, 40, key="run-1")
    assert first.status_code == 201 and replay.status_code == 200
    assert replay.json()["replayed"] and replay.json()["id"] == first.json()["id"]
    assert top(client, slug)[0]["score"] == 40


def test_submissions_are_rate_limited_per_user(
    client: TestClient[Any],
    user: Account,
    other_user: Account,
    admin: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADERBOARD_SUBMISSIONS_PER_MINUTE", "3")
    slug = make_game(client, admin, operator="sum")
    limited = sign_up(client, name="Eager")
    codes = [submit(client, limited, slug, 1).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    refused = submit(client, limited, slug, 1)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert submit(client, other_user, slug, 1).status_code == 201
    assert top(client, slug)[0]["score"] == 3


def test_my_rank_has_percentile_and_the_players_around_me(
    client: TestClient[Any], admin: Account
) -> None:
    slug = make_game(client, admin)
    players = [sign_up(client, name=f"R{i}") for i in range(7)]
    for i, account in enumerate(players):
        submit(client, account, slug, 100 - i)
    me = players[3]
    response = client.get(f"/leaderboard/games/{slug}/me/rank?around=2", headers=me.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rank"] == 4 and body["score"] == 97
    assert body["percentile"] == pytest.approx(100 * 4 / 7, abs=0.01)
    assert [r["rank"] for r in body["around"]] == [2, 3, 4, 5, 6]
    assert [r["user_id"] for r in body["around"]] == [p.id for p in players[1:6]]
    other = client.get(f"/leaderboard/games/{slug}/players/{players[0].id}/rank?around=1")
    assert other.json()["rank"] == 1 and len(other.json()["around"]) == 2
    unknown = client.get(f"/leaderboard/games/{slug}/players/{uuid.uuid4()}/rank")
    assert unknown.status_code == 404
    assert client.get(f"/leaderboard/games/{slug}/me/rank").status_code == 401
    anonymous = client.post(f"/leaderboard/games/{slug}/scores", json={"score": 1})
    assert anonymous.status_code == 401
    assert client.get("/leaderboard/games/nope/top").status_code == 404


def test_period_boards_and_the_global_board(
    client: TestClient[Any], user: Account, other_user: Account, admin: Account
) -> None:
    high = make_game(client, admin)
    also_high = make_game(client, admin, operator="sum")
    low = make_game(client, admin, sort_order="low_first")
    submit(client, user, high, 60)
    submit(client, other_user, high, 50)
    submit(client, other_user, also_high, 30)
    submit(client, user, low, 5)
    for period in ("daily", "weekly", "monthly"):
        assert [r["score"] for r in top(client, high, period=period)] == [60, 50]
    rows = {
        r["user_id"]: r["score"]
        for r in client.get("/leaderboard/global/top?limit=100").json()["items"]
    }
    assert rows[other_user.id] == 80 and rows[user.id] == 60
    bad = client.get(f"/leaderboard/games/{high}/top?period=yearly")
    assert bad.status_code == 400 or bad.status_code == 422
    assert client.get(f"/leaderboard/games/{high}/top?limit=0").status_code in (400, 422)
