"""The origin's domain: find an object (upload or generated), revalidate, store, purge edges.

Uploads live in kernel storage under `cdn/objects/<id>` and shadow the generated catalogue
object of the same id. Purging removes the path from every edge: by deleting the entry's cache
file on local edges, or `PURGE <path>` where ngx_cache_purge runs. Neither has a wildcard
(Debian ships ngx_cache_purge 2.3), so a prefix is expanded to the known object paths.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import httpx

from apps.cdn import catalogue
from apps.cdn.render import cache_file
from apps.cdn.schemas import EdgePurge, PurgeResult
from apps.cdn.settings import OriginSettings
from apps.kernel.errors import Invalid, NotFound
from apps.kernel.storage import BlobStore

ORIGIN_PREFIX = "/cdn/origin/objects/"
ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
STORAGE_PREFIX = "cdn/objects/"
UPLOAD_MAX_AGE = 300
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
PURGE_CONCURRENCY = 32


@dataclass(frozen=True)
class OriginObject:
    id: str
    data: bytes
    content_type: str
    etag: str
    last_modified: datetime
    max_age: int
    source: str

    @property
    def path(self) -> str:
        return ORIGIN_PREFIX + self.id

    def headers(self) -> dict[str, str]:
        """Validators and freshness every answer for this object carries (200 and 304 alike)."""
        return {
            "Cache-Control": f"public, max-age={self.max_age}",
            "ETag": self.etag,
            "Last-Modified": format_datetime(
                self.last_modified.replace(microsecond=0), usegmt=True
            ),
        }


def check_id(object_id: str) -> str:
    if not ID_PATTERN.fullmatch(object_id) or object_id in {".", ".."}:
        raise Invalid("object_id", "use 1-128 letters, digits, '.', '_' or '-'")
    return object_id


def find_object(object_id: str, store: BlobStore, settings: OriginSettings) -> OriginObject:
    """The uploaded object of that id, else the catalogue's, else NotFound."""
    check_id(object_id)
    blob = store.get(STORAGE_PREFIX + object_id)
    if blob is not None:
        digest = hashlib.sha256(blob.data).hexdigest()[:20]
        return OriginObject(
            object_id, blob.data, blob.content_type, f'"u-{digest}"', blob.stored_at,
            UPLOAD_MAX_AGE, "upload",
        )  # fmt: skip
    described = (
        catalogue.describe(int(object_id), settings.objects, settings.seed)
        if object_id.isdigit()
        else None
    )
    if described is None:
        raise NotFound(f"no object {object_id!r} (catalogue ids are 0..{settings.objects - 1})")
    data = catalogue.body(described.id, described.kind, described.size, settings.seed)
    return OriginObject(
        object_id, data, described.content_type, described.etag, described.last_modified,
        described.max_age, "catalogue",
    )  # fmt: skip


def not_modified(
    obj: OriginObject, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """RFC 9110 13.1: If-None-Match wins (weak comparison); else If-Modified-Since."""
    if if_none_match is not None:
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or obj.etag.removeprefix("W/") in wanted
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unparseable date is ignored, as the RFC says
        if since.tzinfo is None:
            return False
        return obj.last_modified.replace(microsecond=0) <= since
    return False


def store_object(object_id: str, data: bytes, content_type: str, store: BlobStore) -> OriginObject:
    check_id(object_id)
    if not data:
        raise Invalid("body", "an object needs at least one byte")
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid("body", f"objects are at most {MAX_UPLOAD_BYTES} bytes")
    if not re.fullmatch(r"[\w.+-]+/[\w.+-]+(\s*;.*)?", content_type or ""):
        raise Invalid("content-type", "send a media type such as image/png")
    blob = store.put(STORAGE_PREFIX + object_id, data, content_type)
    digest = hashlib.sha256(data).hexdigest()[:20]
    return OriginObject(
        object_id, data, content_type, f'"u-{digest}"', blob.stored_at, UPLOAD_MAX_AGE, "upload"
    )


def delete_upload(object_id: str, store: BlobStore) -> None:
    check_id(object_id)
    if not store.delete(STORAGE_PREFIX + object_id):
        raise NotFound(f"no uploaded object {object_id!r}")


def purge_paths(
    path: str | None, prefix: str | None, store: BlobStore, settings: OriginSettings
) -> list[str]:
    """The object paths a purge request names; 422 naming the field when it names none."""
    if (path is None) == (prefix is None):
        field = "path" if path is None else "prefix"
        raise Invalid(field, "send exactly one of 'path' or 'prefix'")
    if path is not None:
        if not path.startswith(ORIGIN_PREFIX):
            raise Invalid("path", f"must start with {ORIGIN_PREFIX}")
        check_id(path.removeprefix(ORIGIN_PREFIX))
        return [path]
    assert prefix is not None
    if not prefix.startswith("/cdn/origin/"):
        raise Invalid("prefix", "must start with /cdn/origin/")
    if len(prefix) > 300:
        raise Invalid("prefix", "at most 300 characters")
    return [p for p in known_paths(store, settings) if p.startswith(prefix)]


def known_paths(store: BlobStore, settings: OriginSettings) -> list[str]:
    uploads = {key.removeprefix(STORAGE_PREFIX) for key in store.keys(STORAGE_PREFIX)}
    ids = [str(i) for i in range(settings.objects)] + sorted(
        uploads - {str(i) for i in range(settings.objects)}
    )
    return [ORIGIN_PREFIX + object_id for object_id in ids]


def purge_file(cache_dir: Path, edge: str, path: str) -> EdgePurge:
    """Delete the entry's cache file; nginx answers the next request for it as a MISS."""
    try:
        cache_file(cache_dir, path).unlink()
    except FileNotFoundError:
        return EdgePurge(edge, path, "not-cached")
    except OSError as exc:
        return EdgePurge(edge, path, f"error: {exc.strerror}")
    return EdgePurge(edge, path, "purged")


async def purge_edges(
    paths: Iterable[str], edges: Mapping[str, str], caches: Mapping[str, str] | None = None
) -> PurgeResult:
    """Purge every path from every edge: by file where the edge's cache dir is known (local
    edges), else with `PURGE <path>` (edges running ngx_cache_purge), a bounded number at once.
    """
    paths = list(paths)
    caches = caches or {}
    limit = asyncio.Semaphore(PURGE_CONCURRENCY)

    async def one(client: httpx.AsyncClient, edge: str, url: str, path: str) -> EdgePurge:
        if edge in caches:
            return purge_file(Path(caches[edge]), edge, path)
        async with limit:
            try:
                answer = await client.request("PURGE", url + path)
            except httpx.HTTPError as exc:
                return EdgePurge(edge, path, f"error: {type(exc).__name__}")
        status = {200: "purged", 404: "not-cached"}.get(answer.status_code)
        return EdgePurge(edge, path, status or f"error: HTTP {answer.status_code}")

    async with httpx.AsyncClient(timeout=5) as client:
        results = await asyncio.gather(
            *(one(client, edge, url, path) for edge, url in edges.items() for path in paths)
        )
    purged = sum(1 for r in results if r.status == "purged")
    return PurgeResult(paths=len(paths), edges=len(edges), purged=purged, results=list(results))
