"""Blob store: S3 (boto3) when S3_BUCKET is set, a local folder under the data dir otherwise.

Both backends keep the same small contract: bytes under a key with a content type, read back
with the time they were stored. Keys are relative paths (`cdn/objects/42`); a key that could
escape the folder (`..`, absolute, empty segments) is refused with `InvalidKey`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from apps.kernel.settings import get_settings

KEY_PATTERN = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class InvalidKey(ValueError):
    """A key that is not a plain relative path of safe segments."""


@dataclass(frozen=True)
class Blob:
    key: str
    data: bytes
    content_type: str
    stored_at: datetime


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> Blob: ...

    def get(self, key: str) -> Blob | None: ...

    def delete(self, key: str) -> bool: ...

    def keys(self, prefix: str = "") -> list[str]: ...


def check_key(key: str) -> str:
    """The key itself, or `InvalidKey` when it is not a safe relative path."""
    if not KEY_PATTERN.fullmatch(key) or any(part in {".", ".."} for part in key.split("/")):
        raise InvalidKey(f"{key!r} is not a storage key (letters, digits, . _ - and / only)")
    return key


class LocalBlobStore:
    """Blobs as files under `root`, each with a `.meta.json` sidecar; writes are atomic."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> Blob:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        stored_at = datetime.now(UTC)
        meta = {"content_type": content_type, "stored_at": stored_at.isoformat()}
        _atomic_write(path.with_name(path.name + ".meta.json"), json.dumps(meta).encode())
        _atomic_write(path, data)
        return Blob(key, data, content_type, stored_at)

    def get(self, key: str) -> Blob | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
            meta: dict[str, Any] = json.loads(path.with_name(path.name + ".meta.json").read_text())
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        return Blob(key, data, meta["content_type"], datetime.fromisoformat(meta["stored_at"]))

    def delete(self, key: str) -> bool:
        path = self._path(key)
        existed = path.is_file()
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".meta.json").unlink(missing_ok=True)
        return existed

    def keys(self, prefix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        found = (
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() and not path.name.endswith(".meta.json") and ".tmp-" not in path.name
        )
        return sorted(key for key in found if key.startswith(prefix))


class S3BlobStore:
    """Blobs as objects of one S3 bucket, under an optional key prefix."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or boto3.client("s3", endpoint_url=os.environ.get("S3_ENDPOINT_URL"))

    def put(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> Blob:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.prefix + check_key(key),
            Body=data,
            ContentType=content_type,
        )
        return Blob(key, data, content_type, datetime.now(UTC))

    def get(self, key: str) -> Blob | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + check_key(key))
        except self.client.exceptions.NoSuchKey:
            return None
        stored_at = answer["LastModified"]
        return Blob(
            key,
            answer["Body"].read(),
            answer.get("ContentType") or DEFAULT_CONTENT_TYPE,
            stored_at if stored_at.tzinfo else stored_at.replace(tzinfo=UTC),
        )

    def delete(self, key: str) -> bool:
        existed = self.get(key) is not None
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + check_key(key))
        return existed

    def keys(self, prefix: str = "") -> list[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        found: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            found.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", []))
        return sorted(found)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@lru_cache(maxsize=1)
def get_storage() -> BlobStore:
    """The process-wide store: S3 when S3_BUCKET is set, else `<data dir>/blobs`."""
    bucket = os.environ.get("S3_BUCKET", "").strip()
    if bucket:
        return S3BlobStore(bucket, os.environ.get("S3_PREFIX", ""))
    return LocalBlobStore(get_settings().data_dir / "blobs")


def reset_storage() -> None:
    """Forget the store so the next `get_storage()` reads the environment again."""
    get_storage.cache_clear()
