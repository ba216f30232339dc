"""Battleship settings, read from the environment (the tests shorten every timeout)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from apps.kernel.settings import SettingsError


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise SettingsError(f"{name}={value:g} must be above 0")
    return value


@dataclass(frozen=True)
class BattleshipConfig:
    grace_seconds: float = 60.0
    """How long a disconnected player's seat is kept for a reconnect before they forfeit."""
    placement_timeout: float = 120.0
    """Seconds both players get to place their fleets once the second player sits down."""
    outbox_size: int = 256
    """Frames a socket may have unsent before it is closed as a slow consumer."""

    @classmethod
    def from_env(cls) -> BattleshipConfig:
        return cls(
            grace_seconds=_seconds("BATTLESHIP_GRACE_SECONDS", cls.grace_seconds),
            placement_timeout=_seconds("BATTLESHIP_PLACEMENT_TIMEOUT", cls.placement_timeout),
            outbox_size=int(_seconds("BATTLESHIP_OUTBOX_SIZE", cls.outbox_size)),
        )
