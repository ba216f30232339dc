"""The terminal client's screen: live decrypted messages, typing bar, presence, key warnings."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from apps.chat.client import screen as screen_module
from apps.chat.client.crypto import DeviceKeys
from apps.chat.client.screen import ChatScreen
from apps.chat.client.terminal import BadServerURL, socket_url
from tests.apps.chat.helpers import befriend, chat_user, connect, drain_backlog, next_event

pytestmark = pytest.mark.timeout(60)


def test_the_screen_shows_live_messages_typing_and_presence(client: TestClient[Any]) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    lines: list[str] = []
    screen = ChatScreen(bob[1], lines.append)
    screen.on_line(f"/direct {alice[0].email}")
    assert lines[-1].startswith("--- Alice (offline)")
    with connect(client, bob[1]) as bob_ws, connect(client, alice[1]) as alice_ws:
        drain_backlog(bob_ws)
        drain_backlog(alice_ws)
        screen.on_event(next_event(bob_ws, "presence"))
        assert lines[-1] == "* Alice is online"
        conversation = screen.current
        assert conversation is not None
        alice_ws.send_json({"type": "typing", "conversation_id": conversation, "state": "start"})
        screen.on_event(next_event(bob_ws, "typing"))
        assert "Alice typing..." in screen.status_bar()
        alice[1].send(conversation, "are you there?")
        screen.on_event(next_event(bob_ws, "message"))
        assert lines[-1] == "#1 Alice: are you there?"
        assert "typing" not in screen.status_bar()
        assert {f["type"] for f in screen.outbox} == {"delivered", "read"}
        screen.on_line("yes, here")
        assert alice[1].history(conversation)[-1].text == "yes, here"
        assert screen.on_keystroke()
        assert screen.outbox[-1] == {
            "type": "typing",
            "conversation_id": conversation,
            "state": "start",
        }


def test_the_screen_warns_of_a_key_change_and_undecryptable_messages(
    client: TestClient[Any],
) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    lines: list[str] = []
    screen = ChatScreen(alice[1], lines.append)
    screen.on_line(f"/direct {bob[0].email}")
    screen.on_line("hello")
    bob[1].store.keys = DeviceKeys.generate()
    bob[1].register()
    screen.on_line("still there?")
    warning = [line for line in lines if "key changed" in line]
    assert len(warning) == 1 and "safety number" in warning[0]
    screen.on_line("/nonsense")
    assert lines[-1].startswith("commands:")
    screen.on_line("/direct nobody@example.com")
    assert "not among your contacts" in lines[-1]
    tampered = alice[1].call("GET", f"/chat/conversations/{screen.current}/messages")[0]
    tampered["envelope"]["nonce"] = "A" * 16
    screen.on_event({"type": "message", "message": tampered})
    assert lines[-1].startswith("#1 you: [could not decrypt")


def test_an_idle_client_turns_away_and_back(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = chat_user(client, "Alice")
    screen = ChatScreen(alice[1], lambda _: None)
    screen.tick()
    assert screen.outbox == []
    monkeypatch.setattr(screen_module, "AWAY_AFTER", 0.0)
    screen.tick()
    assert screen.outbox == [{"type": "presence", "status": "away"}]
    screen.outbox.clear()
    assert screen.on_keystroke()
    assert screen.outbox == [{"type": "presence", "status": "online"}]


def test_the_socket_url_follows_the_server_url() -> None:
    assert (
        socket_url("https://chat.example/api/", "d1") == "wss://chat.example/api/chat/ws?device=d1"
    )
    assert socket_url("http://127.0.0.1:8000", "d1") == "ws://127.0.0.1:8000/chat/ws?device=d1"
    with pytest.raises(BadServerURL):
        socket_url("ftp://x", "d1")
