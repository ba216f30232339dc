"""`manifest.json`: what a backup holds, and the checks that refuse a damaged one.

The manifest is written last, by rename, so a folder without one is an interrupted backup.
It records every file's size and SHA-256 and its own checksum over the rest of its content,
so a changed, truncated, missing or added-by-hand data file, and an edited manifest, are caught.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import msgspec

from apps.dbbackup.errors import BackupRejected

FORMAT = "stackyard-dbbackup/1"
MANIFEST = "manifest.json"


class FileEntry(msgspec.Struct, frozen=True):
    sha256: str
    bytes: int


class ChunkEntry(msgspec.Struct):
    file: str
    rows: int


class TableEntry(msgspec.Struct):
    """One table: its DDL file, what it waits for at restore, and its data chunks."""

    name: str
    schema_file: str
    columns: list[str]
    depends_on: list[str] = msgspec.field(default_factory=list)
    rows: int = 0
    chunks: list[ChunkEntry] = msgspec.field(default_factory=list)


class Manifest(msgspec.Struct):
    engine: str
    server_version: str
    database: str
    snapshot_time: str
    consistency: str
    compression: str
    started_at: str
    finished_at: str = ""
    pre_data: list[str] = msgspec.field(default_factory=list)
    tables: list[TableEntry] = msgspec.field(default_factory=list)
    post_data: list[str] = msgspec.field(default_factory=list)
    omitted_foreign_keys: list[str] = msgspec.field(default_factory=list)
    files: dict[str, FileEntry] = msgspec.field(default_factory=dict)
    format: str = FORMAT
    manifest_sha256: str = ""

    def referenced_files(self) -> list[str]:
        """Every file the restore reads, in the order it reads them."""
        names = list(self.pre_data)
        for table in self.tables:
            names.append(table.schema_file)
            names.extend(chunk.file for chunk in table.chunks)
        names.extend(self.post_data)
        return names


def _body_digest(manifest: Manifest) -> str:
    body = msgspec.structs.replace(manifest, manifest_sha256="")
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).hexdigest()


def file_entry(path: Path) -> FileEntry:
    """Size and SHA-256 of one file on disk."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return FileEntry(sha256=digest, bytes=path.stat().st_size)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Seal the manifest with its own checksum and write it atomically (temp file + rename)."""
    manifest.manifest_sha256 = _body_digest(manifest)
    temp = folder / f".{MANIFEST}.tmp"
    temp.write_bytes(msgspec.json.format(msgspec.json.encode(manifest, order="sorted")))
    with temp.open("rb") as handle:
        os.fsync(handle.fileno())
    temp.replace(folder / MANIFEST)


def read_manifest(folder: Path) -> Manifest:
    """The manifest of `folder`, or BackupRejected saying why it cannot be trusted."""
    if not folder.is_dir():
        raise BackupRejected(f"{folder} is not a folder")
    path = folder / MANIFEST
    if not path.exists():
        raise BackupRejected(f"{folder} holds no {MANIFEST}: not a backup, or an incomplete one")
    try:
        manifest = msgspec.json.decode(path.read_bytes(), type=Manifest)
    except msgspec.DecodeError as exc:
        raise BackupRejected(f"{path} is not a valid manifest: {exc}") from None
    if manifest.format != FORMAT:
        raise BackupRejected(f"{path} has format {manifest.format!r}, expected {FORMAT!r}")
    if manifest.manifest_sha256 != _body_digest(manifest):
        raise BackupRejected(f"{path} was modified after the backup (its checksum differs)")
    return manifest


def verify_files(folder: Path, manifest: Manifest) -> list[str]:
    """Problems found in the files of a backup; an empty list means every check passed."""
    problems: list[str] = []
    for name in manifest.referenced_files():
        if name not in manifest.files:
            problems.append(f"{name}: used by the restore but has no checksum in the manifest")
    root = folder.resolve()
    for name, expected in sorted(manifest.files.items()):
        path = (folder / name).resolve()
        if not path.is_relative_to(root):
            problems.append(f"{name}: points outside the backup folder")
            continue
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        actual = file_entry(path)
        if actual.bytes != expected.bytes:
            problems.append(f"{name}: {actual.bytes} bytes, expected {expected.bytes}")
        elif actual.sha256 != expected.sha256:
            problems.append(f"{name}: SHA-256 differs from the manifest")
    return problems


def load_verified(folder: Path) -> Manifest:
    """The manifest, after every file is checked; BackupRejected naming the first problems."""
    manifest = read_manifest(folder)
    problems = verify_files(folder, manifest)
    if problems:
        shown = "; ".join(problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise BackupRejected(f"backup {folder} failed verification: {shown}{more}")
    return manifest
