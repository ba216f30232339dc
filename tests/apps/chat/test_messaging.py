"""End-to-end encrypted messaging through the real server: groups, direct, offline, tamper."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from apps.chat import live
from apps.chat.client.api import UNDECRYPTABLE, ChatAccount
from apps.chat.client.store import KeyStore
from apps.kernel.realtime import BEARER_PROTOCOL
from tests.apps.chat.helpers import befriend, chat_user, connect, drain_backlog, next_event

pytestmark = pytest.mark.timeout(60)


def test_group_members_read_each_other_and_the_third_client_cannot(
    client: TestClient[Any],
) -> None:
    alice, bob, carol = (chat_user(client, n) for n in ("Alice", "Bob", "Carol"))
    befriend(alice, bob)
    befriend(alice, carol)
    group = alice[1].group("Pair", [bob[0].id])
    with connect(client, bob[1]) as bob_ws, connect(client, alice[1]) as alice_ws:
        drain_backlog(bob_ws)
        drain_backlog(alice_ws)
        alice[1].send(group["id"], "hello bob")
        got = bob[1].open(next_event(bob_ws, "message")["message"])
        assert (got.text, got.sender_id, got.seq) == ("hello bob", alice[0].id, 1)
        bob[1].send(group["id"], "hi alice")
        mine = alice[1].open(next_event(alice_ws, "message")["message"])
        assert mine.text == "hello bob"  # her own message, decrypted on her device
        theirs = alice[1].open(next_event(alice_ws, "message")["message"])
        assert (theirs.text, theirs.seq) == ("hi alice", 2)
    stolen = alice[1].call("GET", f"/chat/conversations/{group['id']}/messages")
    assert [m["seq"] for m in stolen] == [1, 2]
    for message in stolen:
        seen = carol[1].open(message)
        assert seen.text is None and seen.shown == UNDECRYPTABLE
    assert (
        carol[1]
        .http.get(f"/chat/conversations/{group['id']}/messages", headers=carol[1].headers)
        .status_code
        == 404
    )


def test_a_group_message_is_encrypted_once_and_wrapped_per_device(
    client: TestClient[Any],
) -> None:
    alice, bob, carol = (chat_user(client, n) for n in ("Alice", "Bob", "Carol"))
    befriend(alice, bob)
    befriend(alice, carol)
    group = alice[1].group("Three", [bob[0].id, carol[0].id])
    sent = alice[1].send(group["id"], "to everyone")
    wraps = {(k["user_id"], k["device_id"]) for k in sent["envelope"]["keys"]}
    assert wraps == {(a[0].id, a[1].store.device_id) for a in (alice, bob, carol)}
    for member in (bob, carol):
        assert member[1].history(group["id"])[0].text == "to everyone"


def test_messages_sent_while_offline_arrive_on_connect_exactly_once(
    client: TestClient[Any],
) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    direct = alice[1].direct(bob[0].id)
    for n in range(3):
        alice[1].send(direct["id"], f"while you were away {n}")
    with connect(client, bob[1]) as ws:
        backlog = drain_backlog(ws)
        assert [bob[1].open(m).text for m in backlog] == [
            f"while you were away {n}" for n in range(3)
        ]
        ws.send_json({"type": "delivered", "conversation_id": direct["id"], "seq": 3})
        with connect(client, alice[1]) as alice_ws:
            drain_backlog(alice_ws)
            alice[1].send(direct["id"], "live one")
            live = next_event(ws, "message")["message"]
            assert bob[1].open(live).text == "live one"
            ws.send_json({"type": "delivered", "conversation_id": direct["id"], "seq": 4})
            receipt = next_event(alice_ws, "receipt")
            if receipt["seq"] == 3:  # the first acknowledgement may still be in flight
                receipt = next_event(alice_ws, "receipt")
            assert (receipt["kind"], receipt["seq"]) == ("delivered", 4)
    with connect(client, bob[1]) as ws:
        assert drain_backlog(ws) == []


def test_delivered_and_read_receipts_reach_the_sender(client: TestClient[Any]) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    direct = alice[1].direct(bob[0].id)
    alice[1].send(direct["id"], "did you get this?")
    with connect(client, alice[1]) as alice_ws, connect(client, bob[1]) as bob_ws:
        drain_backlog(alice_ws)
        drain_backlog(bob_ws)
        bob_ws.send_json({"type": "delivered", "conversation_id": direct["id"], "seq": 1})
        delivered = next_event(alice_ws, "receipt")
        assert delivered == {**delivered, "kind": "delivered", "user_id": bob[0].id, "seq": 1}
        bob_ws.send_json({"type": "read", "conversation_id": direct["id"], "seq": 1})
        read = next_event(alice_ws, "receipt")
        assert read == {**read, "kind": "read", "user_id": bob[0].id, "seq": 1}
    members = {m["user_id"]: m for m in alice[1].conversations()[0]["members"]}
    assert members[bob[0].id]["read_seq"] == 1 and members[bob[0].id]["delivered_seq"] == 1


def test_a_tampered_ciphertext_fails_to_decrypt_and_is_shown_as_such(
    client: TestClient[Any],
) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    direct = alice[1].direct(bob[0].id)
    message = alice[1].send(direct["id"], "transfer 10 euros")
    assert bob[1].open(message).text == "transfer 10 euros"
    raw = bytearray(__import__("base64").b64decode(message["envelope"]["ciphertext"]))
    raw[0] ^= 1
    tampered = {**message, "envelope": {**message["envelope"]}}
    tampered["envelope"]["ciphertext"] = __import__("base64").b64encode(bytes(raw)).decode()
    seen = bob[1].open(tampered)
    assert seen.text is None and seen.shown == UNDECRYPTABLE and seen.problem
    impostor = bob[1].open(
        {**message, "sender_id": bob[0].id, "sender_device": bob[1].store.device_id}
    )
    assert impostor.text is None


def test_sequence_numbers_are_per_conversation(client: TestClient[Any]) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    direct = alice[1].direct(bob[0].id)
    group = alice[1].group(f"g-{uuid.uuid4().hex[:6]}", [bob[0].id])
    seqs = [alice[1].send(c["id"], "x")["seq"] for c in (direct, group, direct, group, direct)]
    assert seqs == [1, 1, 2, 2, 3]
    assert alice[1].direct(bob[0].id)["id"] == direct["id"]


def test_sockets_without_a_valid_token_or_registered_device_are_closed(
    client: TestClient[Any],
) -> None:
    alice = chat_user(client, "Alice")
    cases = [
        ("/chat/ws?device=x", None, 4401),
        ("/chat/ws?device=x", [BEARER_PROTOCOL, "not.a.token"], 4401),
        ("/chat/ws?device=never-registered", [BEARER_PROTOCOL, alice[0].token], 4404),
        ("/chat/ws?device=bad%00id", [BEARER_PROTOCOL, alice[0].token], 4422),
    ]
    for path, protocols, code in cases:
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect(path, subprotocols=protocols) as ws,
        ):
            ws.receive_json(timeout=5)
        assert closed.value.code == code, path


def test_concurrent_senders_get_distinct_gap_free_sequence_numbers(
    client: TestClient[Any],
) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    group = alice[1].group("Busy", [bob[0].id])
    senders = [alice[1], bob[1]] * 6
    with ThreadPoolExecutor(max_workers=6) as pool:
        sent = list(
            pool.map(lambda pair: pair[1].send(group["id"], f"n{pair[0]}"), enumerate(senders))
        )
    assert sorted(m["seq"] for m in sent) == list(range(1, 13))
    history = bob[1].history(group["id"])
    assert [m.seq for m in history] == list(range(1, 13))
    assert sorted(m.text or "" for m in history) == sorted(f"n{n}" for n in range(12))


def test_messages_published_out_of_order_reach_sockets_in_order_once(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    direct = alice[1].direct(bob[0].id)
    original = live.tell
    held: list[tuple[Any, ...]] = []

    async def reorder(hub: Any, users: Any, event: dict[str, Any]) -> None:
        if event["type"] == "message" and event["message"]["seq"] == 1:
            held.append((hub, list(users), event))  # published only after seq 2
            return
        await original(hub, users, event)
        for args in held:
            await original(*args)
        held.clear()

    monkeypatch.setattr(live, "tell", reorder)
    with connect(client, bob[1]) as ws:
        drain_backlog(ws)
        alice[1].send(direct["id"], "first")
        alice[1].send(direct["id"], "second")
        alice[1].send(direct["id"], "third")
        got = [next_event(ws, "message")["message"] for _ in range(3)]
        assert [bob[1].open(m).text for m in got] == ["first", "second", "third"]
        ws.send_json({"type": "read", "conversation_id": direct["id"], "seq": 3})
        assert next_event(ws, "receipt", "message")["type"] == "receipt"


def test_each_device_of_a_user_decrypts_and_gets_its_own_offline_delivery(
    client: TestClient[Any],
) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    laptop = ChatAccount(client, alice[0].token, alice[0].id, KeyStore.new())
    laptop.register()
    direct = bob[1].direct(alice[0].id)
    bob[1].send(direct["id"], "to both of your devices")
    with connect(client, alice[1]) as phone_ws:
        (message,) = drain_backlog(phone_ws)
        assert alice[1].open(message).text == "to both of your devices"
        phone_ws.send_json({"type": "delivered", "conversation_id": direct["id"], "seq": 1})
        next_event(phone_ws, "receipt")
    with connect(client, laptop) as laptop_ws:
        (message,) = drain_backlog(laptop_ws)
        assert laptop.open(message).text == "to both of your devices"
    with connect(client, alice[1]) as phone_ws:
        assert drain_backlog(phone_ws) == []
