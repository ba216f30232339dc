"""Real-time channels for every app: Litestar channels on Redis with REDIS_URL, memory embedded.

Several server processes behind a load balancer deliver every event to every subscriber: live
events travel over Redis pub/sub (Litestar's `RedisChannelsPubSubBackend`), history lives in
one Redis Stream per channel (XADD MAXLEN ~ / XREVRANGE) and presence in one sorted set per
channel with heartbeat TTLs. Embedded (no REDIS_URL) the same API runs on Litestar's memory
backend, a deque and a dict, inside one process.

The API (a `Hub`; in a Litestar handler ask for the `hub` dependency, elsewhere use
`async with open_hub(redis_url) as hub:`)::

    event = await hub.publish("poll:42", {"type": "vote", "option": 3}, keep=True)
    # -> the event stamped with "id" (hex) and "ts" (epoch seconds); keep=True also
    #    appends it to the channel's history (REALTIME_HISTORY_SIZE events).

    async with hub.subscribe("poll:42", history=20) as (subscription, past):
        for event in past: ...                     # kept events, oldest first
        async for data in subscription.events():   # JSON bytes, every event exactly once
            ...                                    # raises SlowConsumer once overflowed

    await hub.join("poll:42", "alice")    # presence, refreshed by the hub's heartbeat
    await hub.members("poll:42")          # ["alice", ...] across every process
    await hub.leave("poll:42", "alice")   # a crashed process's members expire after the TTL

Slow consumers: each subscription holds at most REALTIME_QUEUE_SIZE pending events (or a
synchronous `sink` that refuses when its own buffer is full). Past that it is marked
`overflowed`, gets nothing more, `on_overflow` runs, and its owner closes the client with
1013 and the reason; the fan-out never waits for anyone.

WebSockets in a Litestar app: `relay(socket, hub, channel, member=..., on_text=...)` accepts
the socket, streams the channel, keeps it alive (`{"type":"ping"}` every
REALTIME_PING_INTERVAL seconds; any frame from the client, such as `{"type":"pong"}`, counts
as alive; silent past interval + REALTIME_PING_TIMEOUT: closed with 1011) and keeps presence.
Identity: `user, protocol = await socket_user(socket)` reads an access token offered as the
subprotocol pair `bearer, <token>` (or the session cookie from an allowed Origin);
`verify_access_token(token)` checks any token against the JWT secret and the deny-list and
returns a `CurrentUser`.

Metrics (prometheus-client): stackyard_realtime_connected_clients,
stackyard_realtime_messages_total{direction=in|out},
stackyard_realtime_dropped_slow_consumers_total and stackyard_realtime_fanout_seconds (from
publish to handed to every local subscriber; wall clocks, so across hosts as good as NTP).
"""

from __future__ import annotations

from apps.kernel.realtime.auth import BEARER_PROTOCOL, socket_user, verify_access_token
from apps.kernel.realtime.config import RealtimeConfig
from apps.kernel.realtime.hub import (
    Event,
    Hub,
    RealtimeChannelsPlugin,
    SlowConsumer,
    Subscription,
    build_plugin,
    decode_event,
    open_hub,
)
from apps.kernel.realtime.socket import relay
from apps.kernel.settings import Settings, get_settings

__all__ = [
    "BEARER_PROTOCOL",
    "Event",
    "Hub",
    "RealtimeChannelsPlugin",
    "RealtimeConfig",
    "SlowConsumer",
    "Subscription",
    "build_plugin",
    "channels_plugin",
    "decode_event",
    "open_hub",
    "relay",
    "socket_user",
    "verify_access_token",
]


def channels_plugin(settings: Settings | None = None) -> RealtimeChannelsPlugin:
    """The gateway's channels plugin (and its Hub) on the configured backend."""
    settings = settings or get_settings()
    return build_plugin(settings.redis_url, RealtimeConfig.from_env())
