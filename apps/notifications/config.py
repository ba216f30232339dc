"""Notifications settings, read from the environment (NOTIFICATIONS_* variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from apps.kernel.realtime.config import RealtimeConfig
from apps.kernel.settings import SettingsError


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds") from None
    if value < 0.05:
        raise SettingsError(f"{name}={value:g} must be at least 0.05")
    return value


@dataclass(frozen=True)
class NotificationsConfig:
    alertmanager_token: str | None = None
    """Shared secret Alertmanager sends (bearer credentials or basic-auth password); the
    receiver answers 404 while it is unset."""
    poll_interval: float = 2.0
    """Seconds between database checks for notifications the live channel did not bring."""
    ping_interval: float = 20.0
    """Seconds between keepalives on idle WebSockets (`{"type":"ping"}`) and SSE (a comment)."""
    client_queue_size: int = 256
    """Notifications a client may have pending before it is cut off (it then resumes)."""
    router_queue_size: int = 10_000

    @classmethod
    def from_env(cls) -> NotificationsConfig:
        realtime = RealtimeConfig.from_env()
        token = os.environ.get("NOTIFICATIONS_ALERTMANAGER_TOKEN", "").strip() or None
        if token is not None and len(token) < 16:
            raise SettingsError("NOTIFICATIONS_ALERTMANAGER_TOKEN must be at least 16 characters")
        return cls(
            alertmanager_token=token,
            poll_interval=_seconds("NOTIFICATIONS_POLL_INTERVAL", cls.poll_interval),
            ping_interval=realtime.ping_interval,
            client_queue_size=realtime.queue_size,
        )
