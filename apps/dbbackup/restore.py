"""Restore a verified backup: schema in foreign-key order, data in parallel, then indexes."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from apps.dbbackup.backup import ProgressSink, SilentProgress
from apps.dbbackup.engine import (
    DEFERRED_MARKER,
    INDEXES_MARKER,
    ConnectionOptions,
    Loader,
    Target,
    open_target,
)
from apps.dbbackup.errors import BackupRejected, DatabaseFailure
from apps.dbbackup.manifest import ChunkEntry, Manifest, TableEntry, load_verified


@dataclass(frozen=True)
class RestoreRequest:
    target: ConnectionOptions
    src: Path
    create: bool = False
    jobs: int = 2


@dataclass(frozen=True)
class TableSections:
    """A table's DDL file split into what runs before, right after, and after all data."""

    create: str
    indexes: list[str]
    deferred: str


def split_sections(text: str) -> TableSections:
    create, _, rest = text.partition(INDEXES_MARKER)
    indexes, _, deferred = rest.partition(DEFERRED_MARKER)
    statements: list[str] = []
    pending: list[str] = []
    for line in indexes.splitlines():
        if not pending and not line.strip():
            continue
        pending.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(pending))
            pending = []
    return TableSections(create=create, indexes=statements, deferred=deferred)


class LoadSchedule:
    """Hands out data files whose table's parents are fully loaded, biggest tables first."""

    def __init__(self, tables: Sequence[TableEntry]) -> None:
        self.tables = {t.name: t for t in tables}
        self.remaining = {t.name: len(t.chunks) for t in tables}
        self.waiting = {t.name: set(t.depends_on) & set(self.tables) for t in tables}
        self.ready: list[tuple[TableEntry, ChunkEntry]] = []
        self.loaded: dict[str, int] = {t.name: 0 for t in tables}
        self.failed = False
        self.condition = threading.Condition()
        self._release([name for name, parents in self.waiting.items() if not parents])

    def _release(self, names: Sequence[str]) -> None:
        for name in names:
            self.waiting.pop(name, None)
            if self.remaining[name] == 0:
                self._complete(name)
            else:
                self.ready.extend((self.tables[name], chunk) for chunk in self.tables[name].chunks)
        self.ready.sort(key=lambda item: item[0].rows)

    def _complete(self, name: str) -> None:
        freed = []
        for child, parents in self.waiting.items():
            parents.discard(name)
            if not parents:
                freed.append(child)
        self._release(freed)

    def take(self) -> tuple[TableEntry, ChunkEntry] | None:
        with self.condition:
            while not self.failed:
                if self.ready:
                    return self.ready.pop()
                if all(count == 0 for count in self.remaining.values()):
                    return None
                self.condition.wait(1.0)
            return None

    def done(self, table: TableEntry, rows: int) -> None:
        with self.condition:
            self.loaded[table.name] += rows
            self.remaining[table.name] -= 1
            if self.remaining[table.name] == 0:
                self._complete(table.name)
            self.condition.notify_all()

    def fail(self) -> None:
        with self.condition:
            self.failed = True
            self.condition.notify_all()


def run_restore(request: RestoreRequest, progress: ProgressSink | None = None) -> Manifest:
    """Verify the backup, then rebuild it in the target; return its manifest."""
    progress = progress or SilentProgress()
    manifest = load_verified(request.src)
    if manifest.engine != request.target.engine:
        raise BackupRejected(
            f"this backup is of a {manifest.engine} database; it cannot be restored with "
            f"--engine {request.target.engine}"
        )
    target = open_target(request.target, request.create, [t.name for t in manifest.tables])
    try:
        _restore_into(target, manifest, request, progress)
        target.finish()
    except BaseException:
        target.abort()
        raise
    target.close()
    return manifest


def _read(src: Path, relative: str) -> str:
    return (src / relative).read_text(encoding="utf-8")


def _restore_into(
    tgt: Target, manifest: Manifest, request: RestoreRequest, progress: ProgressSink
) -> None:
    for relative in manifest.pre_data:
        tgt.run_script(_read(request.src, relative))
    sections = {t.name: split_sections(_read(request.src, t.schema_file)) for t in manifest.tables}
    for table in manifest.tables:
        tgt.run_script(sections[table.name].create)
    chunk_count = sum(len(t.chunks) for t in manifest.tables)
    loaders = tgt.open_loaders(max(1, min(request.jobs, max(chunk_count, 1))))
    try:
        progress.start("restoring rows", sum(t.rows for t in manifest.tables))
        schedule = LoadSchedule(manifest.tables)
        _run_parallel(loaders, lambda loader: _load_worker(loader, schedule, request, progress))
        for table in manifest.tables:
            if schedule.loaded[table.name] != table.rows:
                raise DatabaseFailure(
                    f"{table.name}: loaded {schedule.loaded[table.name]} rows, "
                    f"the manifest says {table.rows}"
                )
        statements: queue.Queue[str] = queue.Queue()
        for table in manifest.tables:
            for statement in sections[table.name].indexes:
                statements.put(statement)
        progress.start("building indexes", statements.qsize())
        _run_parallel(loaders, lambda loader: _index_worker(loader, statements, progress))
    finally:
        for loader in loaders:
            loader.close()
    for table in manifest.tables:
        tgt.run_script(sections[table.name].deferred)
    for relative in manifest.post_data:
        tgt.run_script(_read(request.src, relative))


def _run_parallel(loaders: Sequence[Loader], work: Callable[[Loader], None]) -> None:
    with ThreadPoolExecutor(max_workers=len(loaders)) as pool:
        futures = [pool.submit(work, loader) for loader in loaders]
    for future in futures:
        future.result()


def _load_worker(
    loader: Loader, schedule: LoadSchedule, request: RestoreRequest, progress: ProgressSink
) -> None:
    while (item := schedule.take()) is not None:
        table, chunk = item
        try:
            rows = loader.load(table.name, table.columns, request.src / chunk.file)
        except BaseException:
            schedule.fail()
            raise
        if rows != chunk.rows:
            schedule.fail()
            raise DatabaseFailure(
                f"{chunk.file}: loaded {rows} rows, the manifest says {chunk.rows}"
            )
        schedule.done(table, rows)
        progress.advance(rows)


def _index_worker(loader: Loader, statements: queue.Queue[str], progress: ProgressSink) -> None:
    while True:
        try:
            statement = statements.get_nowait()
        except queue.Empty:
            return
        loader.execute(statement)
        progress.advance(1)
