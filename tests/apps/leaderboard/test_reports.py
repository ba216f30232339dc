"""The top-players report: any period, from the score history, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import TestClient

from tests.apps.leaderboard.helpers import make_game, submit
from tests.conftest import Account, sign_up


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }


def test_report_applies_the_operator_to_the_period_and_answers_csv(
    client: TestClient[Any], user: Account, other_user: Account, admin: Account
) -> None:
    slug = make_game(client, admin, operator="sum")
    third = sign_up(client, name="Carol")
    for account, scores in ((user, [10, 15]), (other_user, [30]), (third, [25])):
        for score in scores:
            submit(client, account, slug, score)
    params = {"game": slug, "limit": 2, **_window()}
    response = client.get("/leaderboard/reports/top-players", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["user_id"], r["score"]) for r in body["items"]] == [
        (other_user.id, 30),
        (user.id, 25),
    ]
    assert body["items"][0]["display_name"] == "Bob"
    as_csv = client.get(
        "/leaderboard/reports/top-players", params=params, headers={"Accept": "text/csv"}
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["rank"], r["user_id"], r["score"]) for r in rows] == [
        ("1", other_user.id, "30"),
        ("2", user.id, "25"),
    ]


def test_report_period_excludes_other_times_and_ties_go_to_the_earlier(
    client: TestClient[Any], user: Account, other_user: Account, admin: Account
) -> None:
    slug = make_game(client, admin)
    submit(client, other_user, slug, 70)
    submit(client, user, slug, 70)
    body = client.get("/leaderboard/reports/top-players", params={"game": slug, **_window()}).json()
    assert [r["user_id"] for r in body["items"]] == [other_user.id, user.id]
    past = datetime.now(UTC) - timedelta(days=3)
    empty = client.get(
        "/leaderboard/reports/top-players",
        params={
            "game": slug,
            "from": past.isoformat(),
            "to": (past + timedelta(days=1)).isoformat(),
        },
    )
    assert empty.status_code == 200 and empty.json()["items"] == []


def test_report_rejects_a_backwards_or_unzoned_period(
    client: TestClient[Any], admin: Account
) -> None:
    slug = make_game(client, admin)
    window = _window()
    backwards = client.get(
        "/leaderboard/reports/top-players",
        params={"game": slug, "from": window["to"], "to": window["from"]},
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "to"
    unzoned = client.get(
        "/leaderboard/reports/top-players",
        params={"game": slug, "from": "2026-01-01T00:00:00", "to": window["to"]},
    )
    assert unzoned.status_code == 422 and unzoned.json()["field"] == "from"
    missing = client.get("/leaderboard/reports/top-players", params={"game": slug})
    assert missing.status_code in (400, 422)
    unknown = client.get("/leaderboard/reports/top-players", params={"game": "nope", **window})
    assert unknown.status_code == 404
