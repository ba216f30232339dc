"""The live socket: subscribe, snapshot, coalesced tallies per viewer, and the close event."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession

from apps.kernel.realtime import BEARER_PROTOCOL
from apps.polls.live import PUSH_INTERVAL
from tests.apps.polls.helpers import counts, make_poll, new_device, vote
from tests.conftest import Account

pytestmark = pytest.mark.timeout(60)


@contextmanager
def live(
    client: TestClient[Any],
    poll_id: str,
    *,
    account: Account | None = None,
    device: str | None = None,
) -> Any:
    protocols = [BEARER_PROTOCOL, account.token] if account is not None else None
    query = f"?device={device}" if device else ""
    with client.websocket_connect(f"/polls/{poll_id}/live{query}", subprotocols=protocols) as ws:
        ws.send_json({"type": "subscribe"})
        snapshot = ws.receive_json(timeout=5)
        assert snapshot["type"] == "snapshot", snapshot
        yield ws, snapshot


def next_message(ws: WebSocketTestSession) -> dict[str, Any]:
    while True:
        message = ws.receive_json(timeout=5)
        if message["type"] != "ping":
            return message


def test_the_socket_answers_the_subscribe_request_with_a_snapshot(
    client: TestClient[Any], user: Account
) -> None:
    poll = make_poll(client, user)
    vote(client, poll["id"], 2, device=new_device())
    with client.websocket_connect(f"/polls/{poll['id']}/live") as ws:
        ws.send_json({"type": "hello"})
        assert ws.receive_json(timeout=5)["type"] == "error"
        ws.send_json({"type": "subscribe"})
        snapshot = ws.receive_json(timeout=5)
    assert snapshot["poll"] == poll
    assert counts(snapshot["results"]) == [0, 1, 0] and snapshot["results"]["voters"] == 1


def test_votes_are_pushed_as_coalesced_tallies_at_most_ten_a_second(
    client: TestClient[Any], user: Account
) -> None:
    poll_id = make_poll(client, user, results_visible="after_close")["id"]
    ballots = 30
    with live(client, poll_id, account=user) as (ws, _):
        started = time.monotonic()
        for n in range(ballots):
            assert vote(client, poll_id, n % 3 + 1, device=new_device()).status_code == 200
        pushes: list[dict[str, Any]] = []
        while not pushes or pushes[-1]["results"]["voters"] < ballots:
            pushes.append(next_message(ws))
        elapsed = time.monotonic() - started
    assert {p["type"] for p in pushes} == {"tally"}
    assert counts(pushes[-1]["results"]) == [10, 10, 10]
    versions = [p["results"]["version"] for p in pushes]
    assert versions == sorted(set(versions)), "a push went back in time or repeated"
    assert len(pushes) <= elapsed / PUSH_INTERVAL + 1, (len(pushes), elapsed)
    assert len(pushes) < ballots


def test_hidden_viewers_get_no_tallies_and_everyone_gets_the_close(
    client: TestClient[Any], user: Account, other_user: Account
) -> None:
    poll_id = make_poll(client, user, results_visible="after_close")["id"]
    with (
        live(client, poll_id) as (anonymous, first),
        live(client, poll_id, account=other_user) as (voter, _),
    ):
        assert first["results"]["visible"] is False
        assert first["results"]["hidden_until"] == "close"
        vote(client, poll_id, 1, account=other_user)
        vote(client, poll_id, 1, device=new_device())
        mine = next_message(voter)  # the voter's own choice, still without counts
        assert mine["type"] == "tally" and mine["results"]["my_choices"] == [1]
        assert mine["results"]["voters"] is None
        assert client.post(f"/polls/{poll_id}/close", headers=user.headers).status_code == 200
        for ws in (anonymous, voter):
            closed = next_message(ws)
            assert closed["type"] == "closed" and closed["closed_at"] is not None
            assert closed["results"]["visible"] and counts(closed["results"]) == [2, 0, 0]


def test_an_after_vote_viewer_starts_seeing_tallies_once_their_device_votes(
    client: TestClient[Any], user: Account
) -> None:
    poll_id = make_poll(client, user, results_visible="after_vote")["id"]
    device = new_device()
    with live(client, poll_id, device=device) as (ws, first):
        assert first["results"]["hidden_until"] == "vote"
        vote(client, poll_id, 1, device=new_device())
        vote(client, poll_id, 3, device=device)
        pushed = next_message(ws)
        assert pushed["type"] == "tally" and pushed["results"]["visible"]
        assert pushed["results"]["my_choices"] == [3]
        if pushed["results"]["voters"] == 1:  # only our own vote has arrived so far
            pushed = next_message(ws)
        assert counts(pushed["results"]) == [1, 0, 1]


def test_the_close_is_pushed_when_the_deadline_passes(
    client: TestClient[Any], user: Account
) -> None:
    closes_at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    poll_id = make_poll(client, user, closes_at=closes_at, results_visible="after_close")["id"]
    with live(client, poll_id) as (ws, first):
        assert first["results"]["visible"] is False
        closed = next_message(ws)
    assert closed["type"] == "closed" and closed["results"]["visible"]
    assert closed["closed_at"].startswith(closes_at[:19])


def test_unknown_polls_and_bad_tokens_are_closed_with_a_reason(
    client: TestClient[Any], user: Account
) -> None:
    poll_id = make_poll(client, user)["id"]
    cases = [
        ("/polls/00000000-0000-0000-0000-000000000000/live", None, 4404),
        (f"/polls/{poll_id}/live", [BEARER_PROTOCOL, "not.a.token"], 4401),
        (f"/polls/{poll_id}/live?device=x", None, 4422),
    ]
    for path, protocols, code in cases:
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect(path, subprotocols=protocols) as ws,
        ):
            ws.receive_json(timeout=5)
        assert closed.value.code == code, path
