"""Contacts, contact sync by HMAC, device keys, key-change warnings and bad input."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from apps.chat.client.crypto import DeviceKeys, fingerprint
from apps.chat.client.store import KeyStore
from tests.apps.chat.helpers import befriend, chat_user, connect, drain_backlog, next_event
from tests.conftest import unique_email

pytestmark = pytest.mark.timeout(60)


def test_contacts_are_requested_by_email_and_accepted(client: TestClient[Any]) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    pending = alice[1].add_contact(bob[0].email.upper())
    assert (pending["status"], pending["direction"]) == ("pending", "outgoing")
    incoming = bob[1].contacts()
    assert [(c["user_id"], c["status"], c["direction"]) for c in incoming] == [
        (alice[0].id, "pending", "incoming")
    ]
    with pytest.raises(Exception, match="422"):
        alice[1].direct(bob[0].id)  # not a contact until accepted
    assert bob[1].accept(alice[0].id)["status"] == "accepted"
    mine = alice[1].contacts()
    assert [(c["user_id"], c["email"], c["status"]) for c in mine] == [
        (bob[0].id, bob[0].email, "accepted")
    ]
    assert alice[1].direct(bob[0].id)["kind"] == "direct"


def test_contact_sync_finds_users_from_hmacs_only(client: TestClient[Any]) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    stranger = unique_email("nobody")
    found = alice[1].sync_contacts([f"  {bob[0].email.upper()} ", stranger])
    assert list(found) == [f"  {bob[0].email.upper()} "]
    assert found[f"  {bob[0].email.upper()} "]["user_id"] == bob[0].id
    response = client.post(
        "/chat/contacts/discover", json={"hashes": [bob[0].email]}, headers=alice[0].headers
    )
    assert response.status_code == 422 and "hashes" in response.json()["detail"]


def test_contact_sync_is_rate_limited(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_DISCOVER_RATE_LIMIT", "2")
    alice = chat_user(client, "Alice")
    body = {"hashes": ["0" * 64]}
    answers = [
        client.post("/chat/contacts/discover", json=body, headers=alice[0].headers)
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1


def test_a_contacts_key_change_is_reported_with_a_new_safety_number(
    client: TestClient[Any],
) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    direct = alice[1].direct(bob[0].id)
    alice[1].send(direct["id"], "first")
    before = alice[1].safety_number(bob[0].id)
    assert before == bob[1].safety_number(alice[0].id) and len(before.split()) == 12
    bob[1].store.keys = DeviceKeys.generate()  # Bob reinstalls: same device, new key
    bob[1].register()
    alice[1].send(direct["id"], "second")
    assert [(c.user_id, c.new_key) for c in alice[1].key_changes] == [
        (bob[0].id, bob[1].store.keys.public_b64)
    ]
    assert alice[1].safety_number(bob[0].id) != before
    assert bob[1].history(direct["id"])[1].text is None  # not wrapped for the untrusted key
    alice[1].store.accept(alice[1].key_changes.pop())
    alice[1].send(direct["id"], "third")
    assert bob[1].history(direct["id"], after=2)[0].text == "third"
    assert len(fingerprint(bob[1].store.keys.public_b64).split()) == 8


def test_keys_are_listed_for_contacts_only(client: TestClient[Any]) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    path = f"/chat/keys/?user_id={bob[0].id}"
    assert client.get(path, headers=alice[0].headers).status_code == 404
    befriend(alice, bob)
    keys = client.get(path, headers=alice[0].headers).json()
    assert [k["public_key"] for k in keys] == [bob[1].store.keys.public_b64]


def test_bad_input_is_a_4xx_naming_the_field(client: TestClient[Any]) -> None:
    alice, bob = chat_user(client, "Alice"), chat_user(client, "Bob")
    befriend(alice, bob)
    direct = alice[1].direct(bob[0].id)
    headers = alice[0].headers
    bad_key = client.put(
        "/chat/keys/", json={"device_id": "x", "public_key": "short"}, headers=headers
    )
    assert bad_key.status_code == 422 and "public_key" in bad_key.json()["detail"]
    message = alice[1].send(direct["id"], "hi")
    body = {"device_id": alice[1].store.device_id, "envelope": message["envelope"]}
    body["envelope"]["keys"][0]["device_id"] = "not-a-member-device"
    wrong = client.post(f"/chat/conversations/{direct['id']}/messages", json=body, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["field"] == "envelope.keys.0.device_id"
    unknown = client.post(
        f"/chat/conversations/{direct['id']}/messages",
        json={**body, "device_id": "never-registered"},
        headers=headers,
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "device_id"
    self_add = client.post("/chat/contacts/", json={"email": alice[0].email}, headers=headers)
    assert self_add.status_code == 422 and self_add.json()["field"] == "email"
    read = client.post(
        f"/chat/conversations/{direct['id']}/read", json={"seq": 99}, headers=headers
    )
    assert read.status_code == 422 and read.json()["field"] == "seq"
    nul = client.post("/chat/contacts/", json={"email": "a\x00@example.com"}, headers=headers)
    assert nul.status_code in (400, 422)


def test_the_key_store_is_written_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "config" / "chat-alice.json"
    store = KeyStore.open(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = KeyStore.open(path)
    assert (again.device_id, again.keys.public_b64) == (store.device_id, store.keys.public_b64)
    store.observe("u1", "d1", store.keys.public_b64)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyStore.open(path).known == {"u1": {"d1": store.keys.public_b64}}


def test_a_key_change_is_pushed_to_contacts_and_group_members(client: TestClient[Any]) -> None:
    alice, bob, carol = (chat_user(client, n) for n in ("Alice", "Bob", "Carol"))
    befriend(alice, bob)
    befriend(alice, carol)
    alice[1].group("Three", [bob[0].id, carol[0].id])  # Bob and Carol are not contacts
    with connect(client, bob[1]) as bob_ws:
        drain_backlog(bob_ws)
        carol[1].store.keys = DeviceKeys.generate()
        carol[1].register()
        pushed = next_event(bob_ws, "key_change")
    assert (pushed["user_id"], pushed["public_key"]) == (
        carol[0].id,
        carol[1].store.keys.public_b64,
    )
