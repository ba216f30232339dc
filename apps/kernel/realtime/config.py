"""Real-time settings, read from the environment (every timeout is one the tests shorten)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from apps.kernel.settings import SettingsError


def _number(name: str, default: float, *, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise SettingsError(f"{name}={value:g} must be at least {minimum:g}")
    return value


@dataclass(frozen=True)
class RealtimeConfig:
    """Limits of the real-time layer; `RealtimeConfig.from_env()` reads REALTIME_* variables."""

    queue_size: int = 256
    """Events a subscriber may have pending before it is dropped as a slow consumer."""
    presence_ttl: float = 30.0
    """Seconds a presence entry lives without a heartbeat (heartbeats every third of it)."""
    history_size: int = 100
    """Events kept per channel for channels published with `keep=True`."""
    history_ttl: float = 24 * 3600.0
    """Seconds an idle channel's history is kept in Redis."""
    ping_interval: float = 20.0
    """Seconds between keepalive pings to each connected client."""
    ping_timeout: float = 20.0
    """Seconds a client may take to answer a ping before it is considered gone."""
    namespace: str = "stackyard"
    """Prefix of every channel name on the backend (Redis pub/sub ignores database indexes)."""

    @classmethod
    def from_env(cls) -> RealtimeConfig:
        return cls(
            queue_size=int(_number("REALTIME_QUEUE_SIZE", cls.queue_size, minimum=1)),
            presence_ttl=_number("REALTIME_PRESENCE_TTL", cls.presence_ttl, minimum=0.3),
            history_size=int(_number("REALTIME_HISTORY_SIZE", cls.history_size, minimum=0)),
            history_ttl=_number("REALTIME_HISTORY_TTL", cls.history_ttl, minimum=1),
            ping_interval=_number("REALTIME_PING_INTERVAL", cls.ping_interval, minimum=0.05),
            ping_timeout=_number("REALTIME_PING_TIMEOUT", cls.ping_timeout, minimum=0.05),
            namespace=os.environ.get("REALTIME_NAMESPACE", "").strip() or cls.namespace,
        )
