"""The polls HTTP API: creating, opening, closing, voting and changing a vote."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.apps.polls.helpers import counts, make_poll, new_device, results, vote
from tests.conftest import Account


def in_seconds(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def test_a_new_poll_is_open_with_numbered_options(client: TestClient[Any], user: Account) -> None:
    poll = make_poll(client, user, kind="multiple", results_visible="after_vote")
    assert poll["status"] == "open" and poll["kind"] == "multiple"
    assert poll["results_visible"] == "after_vote" and poll["creator_id"] == user.id
    assert [(o["number"], o["text"]) for o in poll["options"]] == [
        (1, "Red"),
        (2, "Green"),
        (3, "Blue"),
    ]
    assert client.get(f"/polls/{poll['id']}").json() == poll


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"options": ["Only one"]}, "options"),
        ({"options": [f"o{n}" for n in range(11)]}, "options"),
        ({"options": ["Yes", " yes "]}, "options[1]"),
        ({"options": ["Yes", "   "]}, "options[1]"),
        ({"options": ["Yes", "N\x00o"]}, "options[1]"),
        ({"question": "   "}, "question"),
        ({"question": "x" * 301}, "question"),
        ({"kind": "ranked"}, "kind"),
        ({"results_visible": "never"}, "results_visible"),
        ({"closes_at": "2001-01-01T00:00:00Z"}, "closes_at"),
        ({"closes_at": "2999-01-01T00:00:00"}, "closes_at"),
        ({"closes_at": "99999-01-01T00:00:00Z"}, "closes_at"),
    ],
)
def test_a_bad_poll_is_refused_naming_the_field(
    client: TestClient[Any], user: Account, changes: dict[str, Any], field: str
) -> None:
    body = {"question": "Which?", "options": ["Yes", "No"], **changes}
    response = client.post("/polls/", json=body, headers=user.headers)
    assert response.status_code in {400, 422}, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field


def test_only_signed_in_users_create_polls(client: TestClient[Any]) -> None:
    response = client.post("/polls/", json={"question": "Q?", "options": ["A", "B"]})
    assert response.status_code == 401


def test_a_single_choice_ballot_marks_exactly_one_existing_option(
    client: TestClient[Any], user: Account
) -> None:
    poll_id = make_poll(client, user)["id"]
    device = new_device()
    for choices, field in [((1, 2), "choices"), ((4,), "choices[0]"), ((0,), "choices[0]")]:
        response = vote(client, poll_id, *choices, device=device)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
    assert client.put(f"/polls/{poll_id}/vote", json={"choices": []}).status_code == 422
    accepted = vote(client, poll_id, 2, device=device)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["choices"] == [2] and accepted.json()["first"] is True
    assert counts(accepted.json()["results"]) == [0, 1, 0]


def test_a_multiple_choice_ballot_counts_each_marked_option(
    client: TestClient[Any], user: Account, other_user: Account
) -> None:
    poll_id = make_poll(client, user, kind="multiple")["id"]
    vote(client, poll_id, 1, 3, account=user)
    body = vote(client, poll_id, 3, 2, account=other_user).json()
    assert body["choices"] == [2, 3]
    assert counts(body["results"]) == [1, 1, 2] and body["results"]["voters"] == 2
    repeated = vote(client, poll_id, 3, 3, account=other_user)
    assert repeated.status_code == 422 and repeated.json()["field"] == "choices"


def test_changing_a_vote_moves_it_and_keeps_one_ballot(
    client: TestClient[Any], user: Account, other_user: Account
) -> None:
    poll_id = make_poll(client, user)["id"]
    assert vote(client, poll_id, 1, account=other_user).json()["first"] is True
    changed = vote(client, poll_id, 3, account=other_user).json()
    assert changed["first"] is False and changed["choices"] == [3]
    again = vote(client, poll_id, 3, account=other_user).json()
    assert counts(again["results"]) == [0, 0, 1] and again["results"]["voters"] == 1
    assert results(client, poll_id, account=other_user)["my_choices"] == [3]


def test_one_ballot_per_device_and_anonymous_voters_need_a_device(
    client: TestClient[Any], user: Account
) -> None:
    poll_id = make_poll(client, user)["id"]
    device = new_device()
    vote(client, poll_id, 1, device=device)
    vote(client, poll_id, 2, device=device)
    vote(client, poll_id, 2, device=new_device())
    assert counts(results(client, poll_id, account=user)) == [0, 2, 0]
    missing = vote(client, poll_id, 1)
    assert missing.status_code == 401 and missing.json()["field"] == "X-Device-Token"
    short = vote(client, poll_id, 1, device="short")
    assert short.status_code == 422
    assert short.json()["errors"][0] == {
        "field": "device",
        "message": "Expected `str` of length >= 8",
        "source": "header",
    }


def test_a_poll_can_refuse_anonymous_ballots(
    client: TestClient[Any], user: Account, other_user: Account
) -> None:
    poll_id = make_poll(client, user, allow_anonymous=False)["id"]
    assert vote(client, poll_id, 1, device=new_device()).status_code == 401
    assert vote(client, poll_id, 1, account=other_user).status_code == 200


def test_only_the_creator_opens_and_closes_and_closed_polls_refuse_votes(
    client: TestClient[Any], user: Account, other_user: Account
) -> None:
    poll = make_poll(client, user, open=False)
    poll_id = poll["id"]
    assert poll["status"] == "draft"
    refused = vote(client, poll_id, 1, account=other_user)
    assert refused.status_code == 409 and "not open" in refused.json()["detail"]
    assert client.post(f"/polls/{poll_id}/open", headers=other_user.headers).status_code == 403
    assert client.post(f"/polls/{poll_id}/open", headers=user.headers).json()["status"] == "open"
    assert vote(client, poll_id, 1, account=other_user).status_code == 200
    assert client.post(f"/polls/{poll_id}/close", headers=other_user.headers).status_code == 403
    closed = client.post(f"/polls/{poll_id}/close", headers=user.headers).json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    late = vote(client, poll_id, 2, account=other_user)
    assert late.status_code == 409 and late.json()["field"] == "poll_id"
    assert counts(results(client, poll_id)) == [1, 0, 0]
    unknown = "00000000-0000-0000-0000-000000000000"
    assert client.post(f"/polls/{unknown}/close", headers=user.headers).status_code == 404
    assert vote(client, unknown, 1, account=user).status_code == 404


def test_a_poll_closes_by_itself_at_its_deadline(client: TestClient[Any], user: Account) -> None:
    poll_id = make_poll(client, user, closes_at=in_seconds(1))["id"]
    assert vote(client, poll_id, 1, device=new_device()).status_code == 200
    time.sleep(1.1)
    assert client.get(f"/polls/{poll_id}").json()["status"] == "closed"
    assert vote(client, poll_id, 2, device=new_device()).status_code == 409
    stale = client.post(f"/polls/{poll_id}/open", headers=user.headers)
    assert stale.status_code == 409 and stale.json()["field"] == "closes_at"
    reopened = client.post(
        f"/polls/{poll_id}/open", json={"closes_at": None}, headers=user.headers
    ).json()
    assert reopened["status"] == "open" and reopened["closes_at"] is None
    assert vote(client, poll_id, 2, device=new_device()).status_code == 200


def test_my_polls_are_listed_newest_first(
    client: TestClient[Any], user: Account, other_user: Account
) -> None:
    first = make_poll(client, other_user)["id"]
    second = make_poll(client, other_user)["id"]
    page = client.get("/polls/?page_size=1", headers=other_user.headers).json()
    assert page["total"] == 2 and [p["id"] for p in page["items"]] == [second]
    assert client.get(page["next"], headers=other_user.headers).json()["items"][0]["id"] == first
