"""The Redis client every app uses: REDIS_URL, else an in-process fake (embedded default).

Async Redis connections belong to one event loop, so there is one client per running loop;
the embedded fake keeps one shared server so every client of the process sees the same data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import fakeredis
from redis.asyncio import Redis

from apps.kernel.settings import Settings, get_settings

_fake_server = fakeredis.FakeServer()
_clients: dict[tuple[str | None, int, bool], Redis] = {}
READ_TIMEOUT = 5.0
"""Seconds one Redis read may take on a guarded client."""
_close_hooks: list[Callable[[], Awaitable[None]]] = []


def create_redis(
    settings: Settings | None = None,
    *,
    decode_responses: bool = True,
    socket_timeout: float | None = READ_TIMEOUT,
) -> Redis:
    """A new client for the configured Redis (or the shared in-process fake).

    `socket_timeout=None` leaves reads unguarded (each guarded read arms a timer): for hot
    paths that bound a whole operation with `asyncio.timeout` instead.
    """
    settings = settings or get_settings()
    if settings.redis_url is None:
        return fakeredis.FakeAsyncRedis(server=_fake_server, decode_responses=decode_responses)
    return Redis.from_url(
        settings.redis_url,
        decode_responses=decode_responses,
        socket_connect_timeout=2,
        socket_timeout=socket_timeout,
        health_check_interval=30,
    )


def get_redis(settings: Settings | None = None, *, guarded_reads: bool = True) -> Redis:
    """The client of the running event loop (strings decoded).

    `guarded_reads=False` gives the loop's other client, whose reads arm no timer each
    (`create_redis(socket_timeout=None)`), for callers that bound whole operations with
    `asyncio.timeout`.
    """
    settings = settings or get_settings()
    key = (settings.redis_url, id(asyncio.get_running_loop()), guarded_reads)
    client = _clients.get(key)
    if client is None:
        timeout = READ_TIMEOUT if guarded_reads else None
        client = _clients[key] = create_redis(settings, socket_timeout=timeout)
    return client


def on_close(hook: Callable[[], Awaitable[None]]) -> None:
    """Have close_redis await `hook` first: it stops the running loop's own Redis users."""
    if hook not in _close_hooks:
        _close_hooks.append(hook)


async def close_redis() -> None:
    """Close the clients (and, through the hooks, subscribers) of the running loop.

    Call before the loop ends.
    """
    for hook in _close_hooks:
        await hook()
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _clients if k[1] == loop_id]:
        await _clients.pop(key).aclose()


def reset_fake() -> None:
    """Empty the embedded fake (tests)."""
    global _fake_server
    _fake_server = fakeredis.FakeServer()
