"""Kernel realtime: delivery, history, slow consumers, presence, tokens, the WebSocket relay.

Each test runs on the embedded memory backend and on the real Redis (own database index and
channel namespace: Redis pub/sub ignores database indexes).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar, websocket
from litestar.connection import WebSocket
from litestar.security.jwt import Token
from litestar.testing import TestClient
from prometheus_client import REGISTRY

from apps.kernel.errors import Unauthorized
from apps.kernel.realtime import (
    BEARER_PROTOCOL,
    Hub,
    RealtimeConfig,
    SlowConsumer,
    build_plugin,
    open_hub,
    relay,
    socket_user,
    verify_access_token,
)
from tests.support import real_services

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if real_services.unreachable():
        pytest.skip("real Redis unreachable")
    index = real_services.claim_redis_index()
    try:
        yield f"{real_services.REDIS_BASE}/{index}"
    finally:
        real_services.release_redis_index(index)


@pytest.fixture(params=["memory", "redis"])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "memory":
        return None
    return request.getfixturevalue("redis_url")


def config(**overrides: float | int) -> RealtimeConfig:
    return RealtimeConfig(namespace=f"test-{uuid.uuid4().hex[:8]}", **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def hub(backend_url: str | None) -> AsyncIterator[Hub]:
    async with open_hub(backend_url, config()) as opened:
        yield opened


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def take(subscription, count: int) -> list[dict]:
    events = []
    async with asyncio.timeout(5):
        async for data in subscription.events():
            events.append(json.loads(data))
            if len(events) == count:
                return events
    return events


async def test_every_subscriber_receives_each_event_once_in_order(hub: Hub) -> None:
    out_before = metric("stackyard_realtime_messages_total", direction="out")
    fanouts_before = metric("stackyard_realtime_fanout_seconds_count")
    async with hub.subscribe("room") as (first, _), hub.subscribe("room") as (second, _):
        for n in range(20):
            await hub.publish("room", {"type": "message", "n": n})
        for subscription in (first, second):
            events = await take(subscription, 20)
            assert [e["n"] for e in events] == list(range(20))
            assert len({e["id"] for e in events}) == 20
    assert metric("stackyard_realtime_messages_total", direction="out") - out_before == 40
    assert metric("stackyard_realtime_fanout_seconds_count") - fanouts_before == 20


async def test_channels_are_separate(hub: Hub) -> None:
    async with hub.subscribe("a") as (on_a, _):
        await hub.publish("b", {"text": "not for a"})
        await hub.publish("a", {"text": "for a"})
        assert [e["text"] for e in await take(on_a, 1)] == ["for a"]


async def test_newcomer_gets_history_then_live_events_without_duplicates(hub: Hub) -> None:
    for n in range(5):
        await hub.publish("log", {"n": n}, keep=True)
    await hub.publish("log", {"n": "not kept"})
    async with hub.subscribe("log", history=3) as (subscription, past):
        assert [e["n"] for e in past] == [2, 3, 4]
        # An event both kept before the history read and delivered live is skipped once.
        await hub.publish("log", {"n": 5}, keep=True)
        assert [e["n"] for e in await take(subscription, 1)] == [5]
    assert [e["n"] for e in await hub.history("log", 10)] == [0, 1, 2, 3, 4, 5]


async def test_a_replayed_event_arriving_live_is_delivered_once() -> None:
    async with open_hub(None, config()) as hub, hub.subscribe("log") as (subscription, _):
        subscription.skip(["already-sent"])
        await hub.publish("log", {"id": "already-sent", "n": 1})
        await hub.publish("log", {"n": 2})
        assert [e["n"] for e in await take(subscription, 1)] == [2]


async def test_slow_consumer_is_dropped_without_blocking_others(hub: Hub) -> None:
    dropped_before = metric("stackyard_realtime_dropped_slow_consumers_total")
    overflowed = []
    async with (
        hub.subscribe("feed", max_queue=3, on_overflow=overflowed.append) as (slow, _),
        hub.subscribe("feed", max_queue=100) as (fast, _),
    ):
        for n in range(10):
            await hub.publish("feed", {"n": n})
        assert [e["n"] for e in await take(fast, 10)] == list(range(10))
        assert overflowed == [slow] and slow.overflowed
        with pytest.raises(SlowConsumer, match="fell 3 events behind"):
            await take(slow, 10)
    assert metric("stackyard_realtime_dropped_slow_consumers_total") - dropped_before == 1


async def test_presence_lists_members_once_and_forgets_them_on_leave(hub: Hub) -> None:
    await hub.join("doc", "alice")
    await hub.join("doc", "alice")  # a second tab
    await hub.join("doc", "bob")
    assert await hub.members("doc") == ["alice", "bob"]
    await hub.leave("doc", "alice")
    assert await hub.members("doc") == ["alice", "bob"]
    await hub.leave("doc", "alice")
    await hub.leave("doc", "bob")
    assert await hub.members("doc") == []


async def test_presence_expires_without_heartbeat_and_lives_with_it(
    backend_url: str | None,
) -> None:
    async with open_hub(backend_url, config(presence_ttl=0.4)) as hub:
        await hub.join("doc", "alice")
        await asyncio.sleep(0.7)  # the hub's heartbeat (every ttl/3) keeps alice
        assert await hub.members("doc") == ["alice"]
        await hub.stop()  # no more heartbeats, as if the process hung
        hub._local.clear()
        await hub._presence.refresh([(hub._name("doc"), f"{hub.node}:ghost")], 0.3)
        assert "ghost" in await hub.members("doc")
        await asyncio.sleep(0.4)
        assert "ghost" not in await hub.members("doc")


async def test_two_hubs_on_redis_share_events_history_and_presence(redis_url: str) -> None:
    shared = config()
    async with open_hub(redis_url, shared) as one, open_hub(redis_url, shared) as two:
        await one.join("room", "alice")
        await two.join("room", "bob")
        assert await one.members("room") == ["alice", "bob"]
        async with two.subscribe("room") as (on_two, _):
            await one.publish("room", {"text": "across"}, keep=True)
            assert [e["text"] for e in await take(on_two, 1)] == ["across"]
        assert [e["text"] for e in await two.history("room", 5)] == ["across"]


# ---- identity ---------------------------------------------------------------------------


def access_token(secret: str, **extras: str) -> Token:
    now = datetime.now(UTC)
    return Token(
        sub=str(uuid.uuid4()),
        exp=now + timedelta(minutes=5),
        iat=now,
        jti=uuid.uuid4().hex,
        extras={"email": "a@example.com", "name": "Ann", "role": "user", **extras},
    )


@pytest.fixture
def settings(tmp_path, monkeypatch):
    from apps.kernel import cache
    from apps.kernel.settings import get_settings, reset_settings

    monkeypatch.setenv("STACKYARD_DATA_DIR", str(tmp_path))
    reset_settings()
    cache.reset_fake()
    yield get_settings()
    reset_settings()


async def test_verify_access_token_returns_the_user_and_refuses_revoked_tokens(settings) -> None:
    from apps.kernel.cache import close_redis, get_redis
    from apps.kernel.identity.auth import deny_key_for_token
    from apps.kernel.identity.denylist import deny

    token = access_token(settings.jwt_secret)
    encoded = token.encode(settings.jwt_secret, "HS256")
    user = await verify_access_token(encoded, settings)
    assert (str(user.id), user.email, user.display_name) == (token.sub, "a@example.com", "Ann")
    await deny(get_redis(), deny_key_for_token(token.jti or ""), 60)
    with pytest.raises(Unauthorized, match="revoked"):
        await verify_access_token(encoded, settings)
    with pytest.raises(Unauthorized, match="invalid or expired"):
        await verify_access_token(token.encode("another-secret-" + "y" * 40, "HS256"), settings)
    await close_redis()


# ---- the Litestar WebSocket relay -------------------------------------------------------


def relay_app(realtime_config: RealtimeConfig) -> Litestar:
    plugin = build_plugin(None, realtime_config)

    @websocket("/rooms/{room:str}")
    async def room_socket(socket: WebSocket, room: str, hub: Hub) -> None:
        user, protocol = await socket_user(socket)
        if user is None:
            await socket.close(code=4401, reason="sign in first")
            return

        async def said(text: str) -> None:
            await hub.publish(room, {"type": "message", "from": user.display_name, "text": text})

        await relay(socket, hub, room, member=user.display_name, subprotocol=protocol, on_text=said)

    return Litestar([room_socket], plugins=[plugin])


def test_relay_carries_messages_both_ways_for_a_bearer_subprotocol(settings) -> None:
    encoded = access_token(settings.jwt_secret).encode(settings.jwt_secret, "HS256")
    with (
        TestClient(relay_app(config(ping_interval=60))) as client,
        client.websocket_connect("/rooms/lobby", subprotocols=[BEARER_PROTOCOL, encoded]) as ws,
    ):
        assert ws.accepted_subprotocol == BEARER_PROTOCOL
        ws.send_text("hello")
        event = ws.receive_json(timeout=5)
        assert (event["type"], event["from"], event["text"]) == ("message", "Ann", "hello")


def test_relay_refuses_a_connection_without_a_valid_token(settings) -> None:
    from litestar.exceptions import WebSocketDisconnect

    with TestClient(relay_app(config())) as client:
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect("/rooms/lobby", subprotocols=[BEARER_PROTOCOL, "x.y.z"]) as ws,
        ):
            ws.receive_text(timeout=5)
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect("/rooms/lobby") as ws,
        ):
            ws.receive_text(timeout=5)
        assert closed.value.code == 4401


def test_relay_pings_and_closes_a_silent_client_with_1011(settings) -> None:
    from litestar.exceptions import WebSocketDisconnect

    encoded = access_token(settings.jwt_secret).encode(settings.jwt_secret, "HS256")
    with (
        TestClient(relay_app(config(ping_interval=0.1, ping_timeout=0.1))) as client,
        client.websocket_connect("/rooms/quiet", subprotocols=[BEARER_PROTOCOL, encoded]) as ws,
    ):
        assert ws.receive_json(timeout=5)["type"] == "ping"
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json(timeout=5)
        assert closed.value.code == 1011
