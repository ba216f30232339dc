"""The deny-list mirror: revocations apply at once, with no Redis round trip per request."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import fakeredis
import pytest
import redis
from litestar.security.jwt import Token
from litestar.testing import TestClient

from apps.gateway import create_app
from apps.kernel import cache
from apps.kernel.cache import close_redis, get_redis
from apps.kernel.identity import denylist
from apps.kernel.identity.auth import _is_revoked, deny_key_for_token
from apps.kernel.identity.denylist import DenyListMirror, current_mirror, deny, is_denied
from apps.kernel.settings import reset_settings
from tests.conftest import sign_up


@pytest.fixture
def quick_resync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DenyListMirror, "heartbeat", 0.2)
    monkeypatch.setattr(DenyListMirror, "resync_after", 0.05)


def count_exists(client: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Record every EXISTS `client` sends (the per-request round trip the mirror replaces)."""
    calls: list[tuple[str, ...]] = []
    original = client.exists

    def counting(*keys: str) -> Any:
        calls.append(keys)
        return original(*keys)

    monkeypatch.setattr(client, "exists", counting)
    return calls


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def until_sync(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def loop_mirror(client: TestClient[Any]) -> DenyListMirror:
    """The mirror of the event loop that serves `client`'s app."""
    return client.blocking_portal.call(current_mirror)


def test_logout_rejects_the_token_in_the_same_instance_at_once(client, user, monkeypatch):
    assert client.get("/auth/me", headers=user.headers).status_code == 200
    until_sync(lambda: loop_mirror(client).synced)
    # Pub/sub delivery switched off: only the writer's own local add can reject the token now.
    monkeypatch.setattr(DenyListMirror, "_learn", lambda self, data: None)
    exists = count_exists(client.blocking_portal.call(get_redis), monkeypatch)
    assert client.post("/auth/logout", headers=user.headers).status_code == 204
    assert client.get("/auth/me", headers=user.headers).status_code == 401
    assert exists == []


def test_a_revocation_in_one_instance_reaches_the_others_mirror(stack, monkeypatch):
    with (
        TestClient(create_app([]), raise_server_exceptions=False) as first,
        TestClient(create_app([]), raise_server_exceptions=False) as second,
    ):
        account = sign_up(first)
        exists = count_exists(second.blocking_portal.call(get_redis), monkeypatch)
        assert second.get("/auth/me", headers=account.headers).status_code == 200
        assert len(exists) == 1  # its mirror has only just started: one round trip
        until_sync(lambda: loop_mirror(second).synced)
        for _ in range(3):
            assert second.get("/auth/me", headers=account.headers).status_code == 200
        assert first.post("/auth/logout", headers=account.headers).status_code == 204
        until_sync(lambda: second.get("/auth/me", headers=account.headers).status_code == 401)
        assert len(exists) == 1  # every check since the sync came from the mirror


async def test_keys_already_in_redis_are_picked_up_by_the_scan(stack):
    earlier = deny_key_for_token(uuid4().hex)
    await get_redis().set(earlier, "1", ex=60)  # not published: only a scan can find it
    try:
        mirror = current_mirror()
        await until(lambda: mirror.synced)
        assert mirror.check([earlier]) is True
        assert mirror.check([deny_key_for_token(uuid4().hex)]) is False
    finally:
        await close_redis()


async def test_an_entry_past_its_ttl_no_longer_denies(stack, monkeypatch):
    scanned, published = deny_key_for_token(uuid4().hex), deny_key_for_token(uuid4().hex)
    await get_redis().set(scanned, "1", ex=1)
    try:
        mirror = current_mirror()
        await until(lambda: mirror.synced)
        await deny(get_redis(), published, 1)
        assert mirror.check([scanned]) is True and mirror.check([published]) is True
        later = time.monotonic() + 1.5
        monkeypatch.setattr(denylist, "monotonic", lambda: later)
        assert mirror.check([scanned]) is False and mirror.check([published]) is False
        # The expired entries are pruned, not kept forever.
        later += DenyListMirror.prune_every
        mirror.add(deny_key_for_token(uuid4().hex), 60)
        assert scanned not in mirror and published not in mirror
    finally:
        await close_redis()


def access_token(**extras: str) -> Token:
    now = datetime.now(UTC)
    return Token(
        sub=str(uuid4()),
        exp=now + timedelta(minutes=5),
        iat=now,
        jti=uuid4().hex,
        extras={"email": "a@example.com", "name": "Ann", "role": "user", **extras},
    )


async def test_with_redis_down_checks_fall_back_and_fail_open(
    stack, quick_resync, monkeypatch, caplog
):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    reset_settings()
    try:
        with caplog.at_level(logging.WARNING, logger="stackyard.auth"):
            assert await _is_revoked(access_token(sid=str(uuid4())), None) is False  # type: ignore[arg-type]
            assert "accepting token" in caplog.text
            await until(lambda: "lost its subscription" in caplog.text)
        assert current_mirror().synced is False
    finally:
        await close_redis()
        monkeypatch.undo()
        reset_settings()


class RedisOutage:
    """Cuts the stack's Redis off from this process and restores it.

    Embedded: the fake server's connection switch. Real: a TCP hop the test owns.
    """

    def __init__(self, real_url: str | None) -> None:
        self.real_url = real_url
        self.open = True
        self.links: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self, monkeypatch: pytest.MonkeyPatch) -> None:
        if self.real_url is None:
            return
        self.server = await asyncio.start_server(self._carry, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}{urlsplit(self.real_url).path}")
        reset_settings()

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = urlsplit(self.real_url)
        if not self.open:
            writer.transport.abort()
            return
        upstream_reader, upstream = await asyncio.open_connection(target.hostname, target.port)
        self.links += [writer, upstream]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
            sink.transport.abort()

        await asyncio.gather(
            pipe(reader, upstream), pipe(upstream_reader, writer), return_exceptions=True
        )

    def down(self) -> None:
        if self.real_url is None:
            cache._fake_server.connected = False
            return
        self.open = False
        for link in self.links:
            link.transport.abort()
        self.links.clear()

    def up(self) -> None:
        if self.real_url is None:
            cache._fake_server.connected = True
        self.open = True

    def write_behind(self, key: str) -> None:
        """Deny `key` in Redis past the outage, with no await the mirror could run in."""
        if self.real_url is None:
            cache._fake_server.connected = True
            fakeredis.FakeRedis(server=cache._fake_server).set(key, "1", ex=60)
            cache._fake_server.connected = False
        else:
            with redis.Redis.from_url(self.real_url) as direct:
                direct.set(key, "1", ex=60)

    async def stop(self) -> None:
        self.up()
        if self.server is not None:
            self.server.close()
            for link in self.links:
                link.transport.abort()
            await self.server.wait_closed()


@pytest.fixture
async def outage(stack, monkeypatch) -> AsyncIterator[RedisOutage]:
    cut = RedisOutage(stack.env.get("REDIS_URL"))
    await cut.start(monkeypatch)
    try:
        yield cut
    finally:
        cut.up()
        await close_redis()
        await cut.stop()
        monkeypatch.undo()
        reset_settings()


async def test_a_mirror_that_loses_redis_falls_back_then_resyncs(
    outage, quick_resync, monkeypatch, caplog
):
    mirror = current_mirror()
    await until(lambda: mirror.synced)
    exists = count_exists(get_redis(), monkeypatch)
    token = access_token()
    missed = deny_key_for_token(str(token.jti))
    assert await is_denied([missed]) is False and exists == []

    outage.down()
    await until(lambda: not mirror.synced)
    with caplog.at_level(logging.WARNING, logger="stackyard.auth"):
        assert await _is_revoked(token, None) is False  # type: ignore[arg-type]
    assert len(exists) == 1 and "accepting token" in caplog.text  # asked Redis, failed open
    outage.write_behind(missed)  # revoked while this mirror heard nothing

    outage.up()
    await until(lambda: mirror.synced)
    assert await is_denied([missed]) is True  # found by the rescan
    assert len(exists) == 1
