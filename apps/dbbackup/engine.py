"""What every database engine provides to the backup and restore pipelines.

A `Source` holds the one consistent snapshot the whole backup reads: it lists the tables,
renders their DDL and opens `Dumper`s, one connection per job, all reading that snapshot.
A `Target` creates the schema and opens `Loader`s, one connection per job.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from apps.dbbackup.errors import InvalidRequest
from apps.dbbackup.ordering import ForeignKey, RestoreOrder

ENGINES = ("postgres", "mysql", "sqlite")
DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}

# Sections of a table's DDL file: run at creation, after its data, after all data.
INDEXES_MARKER = "-- stackyard:indexes (each ends with ; at a line end; run after data)"
DEFERRED_MARKER = "-- stackyard:deferred-foreign-keys (run after all data)"


@dataclass(frozen=True)
class ConnectionOptions:
    """Where the database is; for sqlite, `database` is a file path and the rest is unused."""

    engine: str
    database: str
    host: str = "127.0.0.1"
    port: int | None = None
    user: str | None = None
    password: str | None = None

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS.get(self.engine, 0)


@dataclass
class TableInfo:
    """A table as listed inside the snapshot, before selection."""

    name: str
    estimated_rows: int
    estimated_bytes: int
    foreign_keys: list[ForeignKey] = field(default_factory=list)


@dataclass(frozen=True)
class Chunk:
    """One data file's worth of one table: `predicate` selects its rows (None: all of them)."""

    table: str
    index: int
    predicate: str | None
    estimated_rows: int


@dataclass
class SchemaFiles:
    """DDL text rendered by a source: before tables, per table (in restore order), after data."""

    pre_data: str
    tables: dict[str, str]
    columns: dict[str, list[str]]
    post_data: str
    data_format: str


class Dumper(Protocol):
    def dump(self, chunk: Chunk, columns: Sequence[str], out: BinaryIO) -> int:
        """Write the chunk's rows to `out`; return how many were written."""

    def close(self) -> None: ...


class Source(Protocol):
    server_version: str
    snapshot_time: str
    consistency: str

    def tables(self) -> list[TableInfo]: ...

    def schema(self, selected: Sequence[str], order: RestoreOrder) -> SchemaFiles: ...

    def chunks(self, table: TableInfo, chunk_bytes: int) -> list[Chunk]: ...

    def open_dumpers(self, count: int) -> Sequence[Dumper]:
        """`count` connections reading the source's snapshot; may release global locks."""

    def close(self) -> None: ...


class Loader(Protocol):
    def load(self, table: str, columns: Sequence[str], path: Path) -> int:
        """Load one data file into `table`; return the number of rows loaded."""

    def execute(self, statement: str) -> None: ...

    def close(self) -> None: ...


class Target(Protocol):
    server_version: str

    def run_script(self, script: str) -> None:
        """Execute a DDL script (several statements) on the target."""

    def open_loaders(self, count: int) -> Sequence[Loader]: ...

    def finish(self) -> None:
        """Make the restore visible (sqlite: move the finished file in place)."""

    def abort(self) -> None:
        """Undo a failed restore: drop the database this target created, if any."""

    def close(self) -> None: ...


def select_tables(
    names: Sequence[str], include: Sequence[str], exclude: Sequence[str]
) -> list[str]:
    """Names matching any `include` glob (all when none) and no `exclude` glob.

    A glob matches the qualified name (`public.orders`) or the bare table name (`orders`).
    """

    def matches(name: str, globs: Sequence[str]) -> bool:
        bare = name.rsplit(".", 1)[-1]
        return any(fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(bare, g) for g in globs)

    chosen = [n for n in names if (not include or matches(n, include)) and not matches(n, exclude)]
    if include and not chosen:
        raise InvalidRequest(f"--tables {' '.join(include)} matches no table")
    return chosen


def open_source(options: ConnectionOptions) -> Source:
    """Connect and take the snapshot the whole backup will read."""
    if options.engine == "postgres":
        from apps.dbbackup.postgres import PostgresSource

        return PostgresSource(options)
    if options.engine == "mysql":
        from apps.dbbackup.mysql import MysqlSource

        return MysqlSource(options)
    if options.engine == "sqlite":
        from apps.dbbackup.sqlite import SqliteSource

        return SqliteSource(options)
    raise InvalidRequest(f"unknown engine {options.engine!r}; choose from {', '.join(ENGINES)}")


def open_target(options: ConnectionOptions, create: bool, tables: Sequence[str]) -> Target:
    """Connect to (or create) the target database, refusing one that already has `tables`."""
    if options.engine == "postgres":
        from apps.dbbackup.postgres import PostgresTarget

        return PostgresTarget(options, create, tables)
    if options.engine == "mysql":
        from apps.dbbackup.mysql import MysqlTarget

        return MysqlTarget(options, create, tables)
    if options.engine == "sqlite":
        from apps.dbbackup.sqlite import SqliteTarget

        return SqliteTarget(options, create, tables)
    raise InvalidRequest(f"unknown engine {options.engine!r}; choose from {', '.join(ENGINES)}")
