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
    edge_caches: dict[str, str] = field(default_factory=dict)
    """Edge name -> its nginx cache dir, for edges purged by deleting the entry's file."""


def _pairs(variable: str, *, urls: bool) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in os.environ.get(variable, "").split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name or not value:
            raise SettingsError(f"{variable}: {part!r} is not NAME=VALUE")
        if urls and urlsplit(value).scheme not in {"http", "https"}:
            raise SettingsError(f"{variable}: {value!r} is not an http:// URL")
        pairs[name] = value.rstrip("/")
    return pairs


def load_origin_settings() -> OriginSettings:
    """STACKYARD_CDN_OBJECTS, _SEED, _EDGES (`edge-1=URL,...`), _EDGE_CACHES (`edge-1=DIR`)."""
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
    return OriginSettings(
        **values,
        edges=_pairs("STACKYARD_CDN_EDGES", urls=True),
        edge_caches=_pairs("STACKYARD_CDN_EDGE_CACHES", urls=False),
    )


@lru_cache(maxsize=1)
def get_origin_settings() -> OriginSettings:
    return load_origin_settings()
