"""The origin's generated catalogue: objects `0..N-1`, deterministic from a seed.

Every object's kind (text, JSON or a PNG image), size and freshness come from one row of
uniform draws `rng.random((n, 3))[id]`, so object 7 is the same whatever the catalogue size,
and the simulator reads exactly the sizes the origin serves (`catalogue_table`). Sizes are
Pareto (heavy-tailed) per kind, capped; bodies are generated on demand to exactly that size.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt

Kind = Literal["text", "json", "image"]
KINDS: tuple[Kind, ...] = ("text", "json", "image")
KIND_SHARE = np.array([0.35, 0.25, 0.40])
# Pareto scale (bytes), shape and cap per kind: text pages, API-like JSON, images.
PARETO = {
    "text": (2_048, 1.5, 512_000),
    "json": (800, 1.6, 256_000),
    "image": (24_000, 1.4, 4_000_000),
}
CONTENT_TYPES = {
    "text": "text/plain; charset=utf-8",
    "json": "application/json",
    "image": "image/png",
}
MAX_AGE = {"text": 600, "json": 300, "image": 86_400}
PUBLISHED = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = [
    "edge",
    "origin",
    "cache",
    "object",
    "request",
    "latency",
    "region",
    "hit",
    "miss",
    "purge",
    "stale",
    "bytes",
    "content",
    "network",
    "delivery",
    "static",
    "image",
    "page",
    "asset",
    "header",
    "tag",
    "fresh",
    "revalidate",
    "zipf",
    "popular",
]


@dataclass(frozen=True)
class CatalogueObject:
    id: int
    kind: Kind
    size: int
    content_type: str
    max_age: int
    etag: str
    last_modified: datetime


@dataclass(frozen=True)
class CatalogueTable:
    """Every object's kind index (into KINDS), size in bytes and max-age, as numpy arrays."""

    kinds: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    max_ages: npt.NDArray[np.int64]


def catalogue_table(n: int, seed: int = 0) -> CatalogueTable:
    """The whole catalogue as arrays (vectorised; a million objects take well under a second)."""
    draws = np.random.default_rng(seed).random((n, 3))
    kinds = np.searchsorted(np.cumsum(KIND_SHARE), draws[:, 0], side="right").clip(0, 2)
    sizes = np.empty(n, dtype=np.int64)
    for index, kind in enumerate(KINDS):
        scale, shape, cap = PARETO[kind]
        chosen = kinds == index
        pareto = scale * (1.0 - draws[chosen, 1]) ** (-1.0 / shape)
        sizes[chosen] = np.minimum(pareto, cap).astype(np.int64)
    max_ages = np.array([MAX_AGE[k] for k in KINDS], dtype=np.int64)[kinds]
    return CatalogueTable(kinds.astype(np.int64), sizes, max_ages)


@lru_cache(maxsize=8)
def _table(n: int, seed: int) -> CatalogueTable:
    return catalogue_table(n, seed)


def describe(object_id: int, n: int, seed: int = 0) -> CatalogueObject | None:
    """The catalogue object `object_id`, or None outside `0..n-1`."""
    if not 0 <= object_id < n:
        return None
    table = _table(n, seed)
    kind = KINDS[int(table.kinds[object_id])]
    return CatalogueObject(
        id=object_id,
        kind=kind,
        size=int(table.sizes[object_id]),
        content_type=CONTENT_TYPES[kind],
        max_age=MAX_AGE[kind],
        etag=f'"c{seed}-{object_id}-{int(table.sizes[object_id])}"',
        last_modified=PUBLISHED,
    )


@lru_cache(maxsize=128)
def body(object_id: int, kind: Kind, size: int, seed: int = 0) -> bytes:
    """The object's bytes, exactly `size` long (cached: popular objects are asked often)."""
    rng = np.random.default_rng([seed, object_id])
    if kind == "image":
        return _png(rng, size)
    if kind == "json":
        return _json(rng, object_id, size)
    return _text(rng, size)


def _text(rng: np.random.Generator, size: int) -> bytes:
    words = rng.choice(WORDS, size=size // 5 + 8)
    text = " ".join(words.tolist()).encode()
    while len(text) < size:
        text += b" " + text
    return text[: size - 1] + b"\n" if size else b""


def _json(rng: np.random.Generator, object_id: int, size: int) -> bytes:
    records = [
        {"id": i, "region": str(rng.choice(WORDS)), "score": int(rng.integers(0, 10_000))}
        for i in range(max(1, min(size // 60, 2_000)))
    ]
    document: dict[str, object] = {"object": object_id, "items": records, "padding": ""}
    encoded = json.dumps(document, separators=(",", ":")).encode()
    while len(encoded) > size and records:
        records.pop()
        encoded = json.dumps(document, separators=(",", ":")).encode()
    document["padding"] = "x" * max(0, size - len(encoded))
    encoded = json.dumps(document, separators=(",", ":")).encode()
    return encoded if len(encoded) == size else encoded[:size]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(rng: np.random.Generator, size: int) -> bytes:
    """A valid greyscale PNG of noise, padded with a comment chunk to exactly `size` bytes."""
    signature = b"\x89PNG\r\n\x1a\n"
    fixed = len(signature) + 25 + 12 + 12 + 20  # IHDR, IDAT and IEND frames, comment frame
    room = max(size - fixed - 64, 64)
    width = max(1, min(1024, int(room**0.5)))
    height = max(1, room // (width + 1) // 1)
    while True:
        raw = b"".join(b"\x00" + rng.bytes(width) for _ in range(height))
        idat = zlib.compress(raw, 0)
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
        image = signature + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat)
        end = _chunk(b"IEND", b"")
        remaining = size - len(image) - len(end) - 12 - len(b"Comment\x00")
        if remaining >= 0 or height == 1:
            break
        height = max(1, height - max(1, -remaining // (width + 1) + 1))
    comment = _chunk(b"tEXt", b"Comment\x00" + b"x" * max(0, remaining))
    return image + comment + end
