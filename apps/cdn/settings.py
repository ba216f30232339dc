"""The origin's settings, read from the environment (`cdn up` sets them for its origin)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from apps.kernel.settings import SettingsError


@dataclass(frozen=True)
class OriginSettings:
    objects: int = 1000
    """Catalogue ids are `0..objects-1`."""
    seed: int = 0
    edges: dict[str, str] = field(default_factory=dict)
    """Edge name -> base URL the control plane sends PURGE requests to."""


def _edges(raw: str) -> dict[str, str]:
    edges: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, sep, url = part.partition("=")
        if not sep or not name or urlsplit(url).scheme not in {"http", "https"}:
            raise SettingsError(f"STACKYARD_CDN_EDGES: {part!r} is not NAME=http://host:port")
        edges[name] = url.rstrip("/")
    return edges


def load_origin_settings() -> OriginSettings:
    """STACKYARD_CDN_OBJECTS, STACKYARD_CDN_SEED, STACKYARD_CDN_EDGES (`edge-1=URL,...`)."""
    values = {}
    for name, key, minimum in (
        ("objects", "STACKYARD_CDN_OBJECTS", 1),
        ("seed", "STACKYARD_CDN_SEED", 0),
    ):
        raw = os.environ.get(key, "").strip()
        if raw:
            try:
                values[name] = int(raw)
            except ValueError:
                raise SettingsError(f"{key}={raw!r} is not an integer") from None
            if values[name] < minimum:
                raise SettingsError(f"{key}={raw} must be at least {minimum}")
    return OriginSettings(**values, edges=_edges(os.environ.get("STACKYARD_CDN_EDGES", "")))


@lru_cache(maxsize=1)
def get_origin_settings() -> OriginSettings:
    return load_origin_settings()
