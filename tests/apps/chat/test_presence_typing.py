"""Presence reaches contacts only; typing reaches the conversation only, expires, is limited."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from apps.chat import live
from tests.apps.chat.helpers import befriend, chat_user, connect, drain_backlog, next_event

pytestmark = pytest.mark.timeout(60)


def test_presence_reaches_contacts_only(client: TestClient[Any]) -> None:
    alice, bob, carol = (chat_user(client, n) for n in ("Alice", "Bob", "Carol"))
    befriend(alice, bob)
    befriend(alice, carol)
    direct = alice[1].direct(carol[0].id)
    with connect(client, alice[1]) as alice_ws, connect(client, carol[1]) as carol_ws:
        drain_backlog(alice_ws)
        drain_backlog(carol_ws)
        with connect(client, bob[1]) as bob_ws:
            drain_backlog(bob_ws)
            while (seen := next_event(alice_ws, "presence"))["user_id"] != bob[0].id:
                pass
            assert seen["status"] == "online"
            bob_ws.send_json({"type": "presence", "status": "away"})
            while (seen := next_event(alice_ws, "presence"))["user_id"] != bob[0].id:
                pass
            assert seen["status"] == "away"
            statuses = {p["user_id"]: p["status"] for p in alice[1].call("GET", "/chat/presence")}
            assert statuses[bob[0].id] == "away" and statuses[carol[0].id] == "online"
        while (seen := next_event(alice_ws, "presence"))["user_id"] != bob[0].id:
            pass
        assert seen["status"] == "offline"
        # A sentinel published after all of Bob's presence: Carol saw none of it.
        alice_ws.send_json({"type": "typing", "conversation_id": direct["id"], "state": "start"})
        before: list[dict[str, Any]] = []
        while (event := carol_ws.receive_json(timeout=5))["type"] != "typing":
            before.append(event)
    assert not [e for e in before if e.get("user_id") == bob[0].id]
    carol_sees = {p["user_id"] for p in carol[1].call("GET", "/chat/presence")}
    assert carol_sees == {alice[0].id}


def test_typing_reaches_members_only_and_expires_on_the_server(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "TYPING_TTL", 0.3)
    alice, bob, carol = (chat_user(client, n) for n in ("Alice", "Bob", "Carol"))
    befriend(alice, bob)
    befriend(alice, carol)
    group = alice[1].group("Two of us", [bob[0].id])
    with (
        connect(client, alice[1]) as alice_ws,
        connect(client, bob[1]) as bob_ws,
        connect(client, carol[1]) as carol_ws,
    ):
        for ws in (alice_ws, bob_ws, carol_ws):
            drain_backlog(ws)
        alice_ws.send_json({"type": "typing", "conversation_id": group["id"], "state": "start"})
        started = next_event(bob_ws, "typing")
        assert (started["user_id"], started["state"]) == (alice[0].id, "start")
        stopped = next_event(bob_ws, "typing")  # nobody sent stop: the server expired it
        assert (stopped["user_id"], stopped["state"]) == (alice[0].id, "stop")
        carol_ws.send_json({"type": "typing", "conversation_id": group["id"], "state": "start"})
        refused = next_event(carol_ws, "error")
        assert "conversation" in refused["detail"]
        bob_ws.send_json({"type": "typing", "conversation_id": group["id"], "state": "stop"})
        alice_sees = next_event(alice_ws, "typing")
        assert alice_sees["user_id"] == bob[0].id
        carol_events = []
        alice_ws.send_json({"type": "presence", "status": "away"})  # Carol is her contact
        while (event := next_event(carol_ws, "typing", "presence"))["type"] != "presence":
            carol_events.append(event)
        assert carol_events == []


def test_typing_is_rate_limited(client: TestClient[Any]) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    direct = alice[1].direct(bob[0].id)
    with connect(client, alice[1]) as ws:
        drain_backlog(ws)
        for _ in range(live.TYPING_LIMIT + 1):
            ws.send_json({"type": "typing", "conversation_id": direct["id"], "state": "start"})
        assert "rate limited" in next_event(ws, "error")["detail"]


def test_presence_changes_are_rate_limited(client: TestClient[Any]) -> None:
    alice = chat_user(client, "Alice")
    with connect(client, alice[1]) as ws:
        drain_backlog(ws)
        for n in range(live.PRESENCE_LIMIT + 1):
            ws.send_json({"type": "presence", "status": "away" if n % 2 else "online"})
        assert "presence: rate limited" in next_event(ws, "error")["detail"]
