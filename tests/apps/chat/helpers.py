"""Chat test steps: signed-up users with a registered device, contacts, socket reading."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession

from apps.chat.client.api import ChatAccount
from apps.chat.client.store import KeyStore
from apps.kernel.realtime import BEARER_PROTOCOL
from tests.conftest import Account, sign_up


def chat_user(client: TestClient[Any], name: str) -> tuple[Account, ChatAccount]:
    account = sign_up(client, name=name)
    chat = ChatAccount(client, account.token, account.id, KeyStore.new())
    chat.register()
    return account, chat


def befriend(a: tuple[Account, ChatAccount], b: tuple[Account, ChatAccount]) -> None:
    a[1].add_contact(b[0].email)
    b[1].accept(a[0].id)


def connect(client: TestClient[Any], chat: ChatAccount) -> Any:
    return client.websocket_connect(
        f"/chat/ws?device={chat.store.device_id}", subprotocols=[BEARER_PROTOCOL, chat.token]
    )


def next_event(ws: WebSocketTestSession, *types: str, timeout: float = 10) -> dict[str, Any]:
    """The next event of one of `types` (pings, presence noise etc. skipped)."""
    while True:
        event = ws.receive_json(timeout=timeout)
        if event["type"] in types:
            return event


def drain_backlog(ws: WebSocketTestSession) -> list[dict[str, Any]]:
    """The backlog messages up to `ready`."""
    messages = []
    while True:
        event = ws.receive_json(timeout=5)
        if event["type"] == "ready":
            assert event["backlog"] == len(messages)
            return messages
        if event["type"] == "message":
            messages.append(event["message"])
