"""Litestar channels: the Redis pub/sub backend with REDIS_URL, the memory backend embedded.

One accessor for every app; the real-time core issue adds presence, history and back-pressure.
"""

from __future__ import annotations

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend

from apps.kernel.cache import create_redis
from apps.kernel.settings import Settings, get_settings


def channels_plugin(settings: Settings | None = None) -> ChannelsPlugin:
    """A channels plugin on the configured backend; any channel name is allowed."""
    settings = settings or get_settings()
    if settings.redis_url:
        backend: MemoryChannelsBackend | RedisChannelsPubSubBackend = RedisChannelsPubSubBackend(
            redis=create_redis(settings, decode_responses=False)
        )
    else:
        backend = MemoryChannelsBackend(history=100)
    return ChannelsPlugin(
        backend=backend, arbitrary_channels_allowed=True, create_ws_route_handlers=False
    )
