"""Take a backup: one snapshot, DDL files in restore order, data chunks written in parallel."""

from __future__ import annotations

import queue
import re
import shutil
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from apps.dbbackup import compression
from apps.dbbackup.engine import (
    Chunk,
    ConnectionOptions,
    Dumper,
    open_source,
    select_tables,
)
from apps.dbbackup.errors import DestinationRefused
from apps.dbbackup.manifest import (
    MANIFEST,
    ChunkEntry,
    Manifest,
    TableEntry,
    file_entry,
    write_manifest,
)
from apps.dbbackup.ordering import restore_order

DEFAULT_CHUNK_BYTES = 64 << 20
OWN_ENTRIES = ("schema", "data", MANIFEST)


class ProgressSink(Protocol):
    """Where long work reports how far it got (a Rich progress bar in the CLI)."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...


class SilentProgress:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


@dataclass(frozen=True)
class BackupRequest:
    source: ConnectionOptions
    dest: Path
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    jobs: int = 2
    compression: str = "zstd"
    force: bool = False
    chunk_bytes: int = DEFAULT_CHUNK_BYTES


def file_stem(position: int, name: str) -> str:
    """A safe, sortable file name for a table whose name may hold any character."""
    return f"{position:04d}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)[:80]}"


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def prepare_destination(dest: Path, force: bool) -> None:
    """Refuse a non-empty folder unless forced; when forced, clear only what a backup writes."""
    if dest.exists() and not dest.is_dir():
        raise DestinationRefused(f"--dest {dest} exists and is not a folder")
    if dest.exists() and any(dest.iterdir()):
        if not force:
            raise DestinationRefused(f"--dest {dest} is not empty; pass --force to overwrite it")
        (dest / MANIFEST).unlink(missing_ok=True)
        for entry in ("schema", "data"):
            shutil.rmtree(dest / entry, ignore_errors=True)
    (dest / "schema" / "tables").mkdir(parents=True, exist_ok=True)
    (dest / "data").mkdir(parents=True, exist_ok=True)


def run_backup(request: BackupRequest, progress: ProgressSink | None = None) -> Manifest:
    """Back up the selected tables into `request.dest` and return the sealed manifest."""
    progress = progress or SilentProgress()
    dest = request.dest
    if dest.exists() and not request.force and (not dest.is_dir() or any(dest.iterdir())):
        prepare_destination(dest, force=False)  # raises before we connect
    started = now_utc()
    source = open_source(request.source)
    try:
        prepare_destination(dest, request.force)
        infos = source.tables()
        selected = select_tables([t.name for t in infos], request.include, request.exclude)
        by_name = {t.name: t for t in infos if t.name in set(selected)}
        keys = [k for t in by_name.values() for k in t.foreign_keys]
        order = restore_order(selected, keys)
        omitted = sorted(
            f"{k.child}.{k.name} -> {k.parent}" for k in keys if k.parent not in by_name
        )
        schema = source.schema(selected, order)
        manifest = Manifest(
            engine=request.source.engine,
            server_version=source.server_version,
            database=request.source.database,
            snapshot_time=source.snapshot_time,
            consistency=source.consistency,
            compression=request.compression,
            started_at=started,
            omitted_foreign_keys=omitted,
        )
        manifest.pre_data = [_write_text(dest, "schema/pre-data.sql", schema.pre_data)]
        ext = {"postgres-copy-text": ".copy", "mysql-insert": ".sql", "sqlite-msgpack": ".msgpack"}
        suffix = ext[schema.data_format] + compression.suffix(request.compression)
        entries: dict[str, TableEntry] = {}
        work: list[tuple[Chunk, str]] = []
        for position, name in enumerate(order.tables, start=1):
            stem = file_stem(position, name)
            entries[name] = TableEntry(
                name=name,
                schema_file=_write_text(dest, f"schema/tables/{stem}.sql", schema.tables[name]),
                columns=schema.columns[name],
                depends_on=sorted(order.depends_on[name]),
            )
            for chunk in source.chunks(by_name[name], request.chunk_bytes):
                work.append((chunk, f"data/{stem}.{chunk.index:04d}{suffix}"))
        manifest.post_data = [_write_text(dest, "schema/post-data.sql", schema.post_data)]
        progress.start("backing up rows", sum(c.estimated_rows for c, _ in work))
        dumpers = source.open_dumpers(max(1, min(request.jobs, len(work) or 1)))
        try:
            rows = _dump_all(dumpers, work, schema.columns, dest, request.compression, progress)
        finally:
            for dumper in dumpers:
                dumper.close()
    finally:
        source.close()
    for chunk, relative in work:
        entry = entries[chunk.table]
        entry.chunks.append(ChunkEntry(file=relative, rows=rows[relative]))
        entry.rows += rows[relative]
    for entry in entries.values():
        entry.chunks.sort(key=lambda c: c.file)
    manifest.tables = [entries[name] for name in order.tables]
    manifest.files = {name: file_entry(dest / name) for name in manifest.referenced_files()}
    manifest.finished_at = now_utc()
    write_manifest(dest, manifest)
    return manifest


def _write_text(dest: Path, relative: str, text: str) -> str:
    (dest / relative).write_text(text, encoding="utf-8")
    return relative


def _dump_all(
    dumpers: Sequence[Dumper],
    work: Sequence[tuple[Chunk, str]],
    columns: dict[str, list[str]],
    dest: Path,
    method: str,
    progress: ProgressSink,
) -> dict[str, int]:
    """Each dumper takes the biggest chunk left until none is; the first failure stops all."""
    todo: queue.Queue[tuple[Chunk, str]] = queue.Queue()
    for item in sorted(work, key=lambda w: -w[0].estimated_rows):
        todo.put(item)
    rows: dict[str, int] = {}
    failed = threading.Event()
    lock = threading.Lock()

    def drain(dumper: Dumper) -> None:
        while not failed.is_set():
            try:
                chunk, relative = todo.get_nowait()
            except queue.Empty:
                return
            try:
                with compression.open_writer(dest / relative, method) as out:
                    count = dumper.dump(chunk, columns[chunk.table], out)
            except BaseException:
                failed.set()
                raise
            with lock:
                rows[relative] = count
                progress.advance(count)

    with ThreadPoolExecutor(max_workers=len(dumpers)) as pool:
        futures = [pool.submit(drain, d) for d in dumpers]
    for future in futures:
        future.result()
    return rows
