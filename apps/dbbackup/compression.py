"""Compressed file streams for backup data: zstd (default), gzip, or none."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import zstandard

METHODS = ("zstd", "gzip", "none")
SUFFIX = {"zstd": ".zst", "gzip": ".gz", "none": ""}
ZSTD_LEVEL = 3
GZIP_LEVEL = 6


def suffix(method: str) -> str:
    """The file-name ending of a method, so a reader can tell how a file was written."""
    return SUFFIX[method]


@contextmanager
def open_writer(path: Path, method: str) -> Iterator[BinaryIO]:
    """A binary stream that compresses into `path`; closed (and flushed) on exit."""
    with path.open("wb") as raw:
        if method == "zstd":
            compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
            with compressor.stream_writer(raw, closefd=False) as stream:
                yield stream  # type: ignore[misc]
        elif method == "gzip":
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as gz:
                yield gz  # type: ignore[misc]
        elif method == "none":
            yield raw
        else:
            raise ValueError(f"unknown compression {method!r}")


@contextmanager
def open_reader(path: Path) -> Iterator[BinaryIO]:
    """A binary stream of the uncompressed content of `path`, chosen by its suffix."""
    with path.open("rb") as raw:
        if path.name.endswith(".zst"):
            with zstandard.ZstdDecompressor().stream_reader(raw, closefd=False) as stream:
                yield stream  # type: ignore[misc]
        elif path.name.endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                yield gz  # type: ignore[misc]
        else:
            yield raw


def iter_blocks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    """The uncompressed content of `path` in blocks of at most `size` bytes."""
    with open_reader(path) as stream:
        while block := stream.read(size):
            yield block
