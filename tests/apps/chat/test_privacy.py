"""The server sees ciphertext only: neither the database nor Redis traffic holds plaintext."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest
import redis
from litestar.testing import TestClient
from sqlalchemy import text

from apps.kernel import db
from apps.kernel.cache import close_redis, get_redis
from apps.kernel.realtime import Hub
from tests.apps.chat.helpers import befriend, chat_user, connect, drain_backlog, next_event
from tests.conftest import Stack

pytestmark = pytest.mark.timeout(60)
CHAT_TABLES = (
    "chat_message",
    "chat_conversation",
    "chat_member",
    "chat_cursor",
    "chat_device",
    "chat_contact",
    "chat_directory",
)


def database_dump() -> str:
    async def read() -> str:
        try:
            async with db.session() as session:
                parts = []
                for table in CHAT_TABLES:
                    rows = await session.execute(text(f"SELECT * FROM {table}"))
                    parts.extend(repr(tuple(r)) for r in rows)
                return "\n".join(parts)
        finally:
            await db.dispose_engines()

    return asyncio.run(read())


def redis_dump() -> str:
    async def read() -> str:
        client = get_redis()
        try:
            parts = []
            async for key in client.scan_iter(count=500):
                kind = await client.type(key)
                if kind == "string":
                    parts.append(str(await client.get(key)))
                elif kind == "stream":
                    parts.append(str(await client.xrange(key)))
                elif kind == "zset":
                    parts.append(str(await client.zrange(key, 0, -1)))
                elif kind == "hash":
                    parts.append(str(await client.hgetall(key)))
                elif kind == "list":
                    parts.append(str(await client.lrange(key, 0, -1)))
            return "\n".join(parts)
        finally:
            await close_redis()

    return asyncio.run(read())


class RedisWire:
    """Every pub/sub message on the real Redis server while the block runs."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.pubsub = self.client.pubsub()
        self.pubsub.psubscribe("*")
        self.seen: list[bytes] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)

    def _listen(self) -> None:
        while not self.stopping.is_set():
            message = self.pubsub.get_message(timeout=0.1)
            if message and message["type"] == "pmessage":
                self.seen.append(message["data"])

    def __enter__(self) -> RedisWire:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.pubsub.close()
        self.client.close()


def test_no_plaintext_reaches_the_database_or_redis(
    client: TestClient[Any], stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[str] = []
    original = Hub.publish

    async def spy(self: Hub, channel: str, event: Any, *, keep: bool = False) -> Any:
        stamped = await original(self, channel, event, keep=keep)
        published.append(repr(stamped))
        return stamped

    monkeypatch.setattr(Hub, "publish", spy)
    secret = f"meet at the old mill {uuid.uuid4().hex}"
    alice, bob, carol = (chat_user(client, n) for n in ("Alice", "Bob", "Carol"))
    befriend(alice, bob)
    befriend(alice, carol)
    group = alice[1].group("Plans", [bob[0].id, carol[0].id])
    wire = RedisWire(stack.env["REDIS_URL"]) if stack.real else None
    with wire or _nothing(), connect(client, bob[1]) as bob_ws:
        drain_backlog(bob_ws)
        sent = alice[1].send(group["id"], secret)
        received = bob[1].open(next_event(bob_ws, "message")["message"])
        carol[1].send(group["id"], secret.upper())
        received_too = bob[1].open(next_event(bob_ws, "message")["message"])
    assert (received.text, received_too.text) == (secret, secret.upper())
    assert any(group["id"] in p for p in published), "the spy saw no message traffic"
    stored = database_dump()
    assert sent["envelope"]["ciphertext"] in stored, "the dump missed the message table"
    everything = [stored, redis_dump(), *published]
    if wire is not None:
        assert wire.seen, "no Redis pub/sub traffic was captured"
        everything.extend(m.decode(errors="replace") for m in wire.seen)
    for blob in everything:
        for needle in (secret, secret.upper(), "old mill", "OLD MILL"):
            assert needle not in blob


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None
