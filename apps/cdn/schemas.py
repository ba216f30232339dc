"""Request and response shapes of the origin's admin API."""

from __future__ import annotations

from datetime import datetime

import msgspec


class PurgeRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Exactly one of `path` (one object) or `prefix` (every known object under it)."""

    path: str | None = None
    prefix: str | None = None


class EdgePurge(msgspec.Struct):
    edge: str
    path: str
    status: str
    """`purged`, `not-cached` or `error: ...` (an unreachable edge does not fail the call)."""


class PurgeResult(msgspec.Struct):
    paths: int
    edges: int
    purged: int
    results: list[EdgePurge]


class ObjectRead(msgspec.Struct):
    id: str
    path: str
    size: int
    content_type: str
    etag: str
    last_modified: datetime
    source: str
    """`catalogue` (generated) or `upload` (kernel storage)."""
    purge: PurgeResult | None = None
