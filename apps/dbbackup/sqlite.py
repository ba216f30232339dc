"""SQLite: `--db` is a file. DDL from sqlite_master, data as typed msgpack frames.

The backup reads inside one read transaction (a WAL snapshot, or a SHARED lock that keeps
writers out in rollback-journal mode), on one connection: SQLite cannot hand a snapshot to a
second connection, so `--jobs` does not apply. Values keep their storage class (integer,
real, text, blob, null) exactly, which SQL text could not promise for reals.
The restore builds a temporary file beside `--db` and renames it into place when complete.
"""

from __future__ import annotations

import math
import os
import sqlite3
import struct
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from apps.dbbackup.compression import open_reader
from apps.dbbackup.engine import (
    DEFERRED_MARKER,
    INDEXES_MARKER,
    Chunk,
    ConnectionOptions,
    SchemaFiles,
    TableInfo,
)
from apps.dbbackup.errors import ConnectionFailure, DatabaseFailure, DestinationRefused
from apps.dbbackup.ordering import ForeignKey, RestoreOrder

FRAME_ROWS = 5_000
FRAME_HEADER = struct.Struct(">I")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _failure(exc: sqlite3.Error) -> DatabaseFailure:
    return DatabaseFailure(f"SQLite: {exc}")


class SqliteSource:
    consistency = "one read transaction on one connection (SQLite)"

    def __init__(self, options: ConnectionOptions) -> None:
        self.path = Path(options.database)
        if not self.path.is_file():
            raise ConnectionFailure(f"cannot open SQLite database {self.path}: no such file")
        try:
            self.conn = sqlite3.connect(
                self.path.resolve().as_uri() + "?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            self.conn.execute("BEGIN")
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            (version,) = self.conn.execute("SELECT sqlite_version()").fetchone()
        except sqlite3.Error as exc:
            raise ConnectionFailure(f"cannot open SQLite database {self.path}: {exc}") from None
        self.server_version = f"SQLite {version}"
        self.snapshot_time = datetime.now(UTC).isoformat(timespec="microseconds")
        self._rows: dict[str, int] = {}

    def _query(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(query, params).fetchall()
        except sqlite3.Error as exc:
            raise _failure(exc) from None

    def tables(self) -> list[TableInfo]:
        names = [
            name
            for (name,) in self._query(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        counts = {n: self._query(f"SELECT count(*) FROM {quote_ident(n)}")[0][0] for n in names}
        total_rows = sum(counts.values()) or 1
        file_bytes = self.path.stat().st_size
        infos = []
        for name in names:
            keys = {
                ForeignKey(name, f"fk{row[0]}", row[2])
                for row in self._query(f"PRAGMA foreign_key_list({quote_ident(name)})")
            }
            self._rows[name] = counts[name]
            share = file_bytes * counts[name] // total_rows
            infos.append(TableInfo(name, counts[name], share, sorted(keys, key=str)))
        return infos

    def schema(self, selected: Sequence[str], order: RestoreOrder) -> SchemaFiles:
        chosen = set(selected)
        tables: dict[str, str] = {}
        columns: dict[str, list[str]] = {}
        for name in order.tables:
            ((create,),) = self._query(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
            )
            indexes = self._query(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL ORDER BY rowid",
                (name,),
            )
            tables[name] = "\n".join(
                [f"{create};", INDEXES_MARKER, *(f"{s};" for (s,) in indexes), DEFERRED_MARKER, ""]
            )
            columns[name] = [
                row[1]
                for row in self._query(f"PRAGMA table_xinfo({quote_ident(name)})")
                if row[6] == 0
            ]
        post = [
            f"{sql};"
            for (sql, table) in self._query(
                "SELECT sql, tbl_name FROM sqlite_master WHERE type IN ('view', 'trigger') "
                "AND sql IS NOT NULL ORDER BY rowid"
            )
            if table in chosen or table not in self._rows
        ]
        if self._query("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"):
            for name, seq in self._query("SELECT name, seq FROM sqlite_sequence"):
                if name in chosen:
                    post.append(f"DELETE FROM sqlite_sequence WHERE name = {quote_literal(name)};")
                    post.append(
                        f"INSERT INTO sqlite_sequence (name, seq) VALUES "
                        f"({quote_literal(name)}, {int(seq)});"
                    )
        return SchemaFiles(
            pre_data="",
            tables=tables,
            columns=columns,
            post_data="\n".join(post) + "\n",
            data_format="sqlite-msgpack",
        )

    def chunks(self, table: TableInfo, chunk_bytes: int) -> list[Chunk]:
        count = max(1, math.ceil(table.estimated_bytes / chunk_bytes)) if chunk_bytes else 1
        if count == 1 or not self._has_rowid(table.name):
            return [Chunk(table.name, 0, None, table.estimated_rows)]
        ((low, high),) = self._query(
            f"SELECT min(rowid), max(rowid) FROM {quote_ident(table.name)}"
        )
        step = max(1, math.ceil((high - low + 1) / count))
        bounds = list(range(low + step, high + 1, step))
        chunks = []
        for i in range(len(bounds) + 1):
            parts = ([f"rowid >= {bounds[i - 1]}"] if i else []) + (
                [f"rowid < {bounds[i]}"] if i < len(bounds) else []
            )
            chunks.append(Chunk(table.name, i, " AND ".join(parts), table.estimated_rows // count))
        return chunks

    def _has_rowid(self, table: str) -> bool:
        try:
            self.conn.execute(f"SELECT rowid FROM {quote_ident(table)} LIMIT 0")
        except sqlite3.OperationalError:
            return False
        return True

    def open_dumpers(self, count: int) -> list[SqliteDumper]:
        return [SqliteDumper(self.conn)]

    def close(self) -> None:
        self.conn.close()


class SqliteDumper:
    """Writes rows as length-prefixed msgpack frames of up to FRAME_ROWS rows."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.encoder = msgspec.msgpack.Encoder()

    def dump(self, chunk: Chunk, columns: Sequence[str], out: BinaryIO) -> int:
        names = ", ".join(quote_ident(c) for c in columns)
        where = f" WHERE {chunk.predicate}" if chunk.predicate else ""
        rows = 0
        try:
            cursor = self.conn.execute(f"SELECT {names} FROM {quote_ident(chunk.table)}{where}")
            while batch := cursor.fetchmany(FRAME_ROWS):
                frame = self.encoder.encode(batch)
                out.write(FRAME_HEADER.pack(len(frame)))
                out.write(frame)
                rows += len(batch)
        except sqlite3.Error as exc:
            raise _failure(exc) from None
        return rows

    def close(self) -> None:
        pass


def read_frames(stream: BinaryIO) -> Iterator[list[list[Any]]]:
    decoder = msgspec.msgpack.Decoder(list[list[Any]])
    while header := stream.read(FRAME_HEADER.size):
        (size,) = FRAME_HEADER.unpack(header)
        yield decoder.decode(stream.read(size))


class SqliteTarget:
    """Builds the database in a temporary file and renames it to `--db` when complete."""

    def __init__(self, options: ConnectionOptions, create: bool, tables: Sequence[str]) -> None:
        self.path = Path(options.database)
        if self.path.exists():
            raise DestinationRefused(f"{self.path} already exists; restore into a new file")
        if not self.path.parent.is_dir():
            raise DestinationRefused(f"folder {self.path.parent} does not exist")
        self.temp = self.path.with_name(f".{self.path.name}.restoring-{os.getpid()}")
        self.temp.unlink(missing_ok=True)
        self.conn = sqlite3.connect(self.temp, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA foreign_keys = OFF")
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        (version,) = self.conn.execute("SELECT sqlite_version()").fetchone()
        self.server_version = f"SQLite {version}"

    def run_script(self, script: str) -> None:
        if not script.strip():
            return
        try:
            self.conn.executescript(script)
        except sqlite3.Error as exc:
            raise _failure(exc) from None

    def open_loaders(self, count: int) -> list[SqliteLoader]:
        return [SqliteLoader(self.conn)]

    def finish(self) -> None:
        self.conn.execute("PRAGMA journal_mode = DELETE")
        self.conn.close()
        if self.path.exists():
            raise DestinationRefused(f"{self.path} appeared while restoring; left {self.temp}")
        self.temp.replace(self.path)

    def abort(self) -> None:
        self.conn.close()
        self.temp.unlink(missing_ok=True)

    def close(self) -> None:
        self.conn.close()


class SqliteLoader:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def load(self, table: str, columns: Sequence[str], path: Path) -> int:
        names = ", ".join(quote_ident(c) for c in columns)
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {quote_ident(table)} ({names}) VALUES ({marks})"
        rows = 0
        try:
            self.conn.execute("BEGIN")
            with open_reader(path) as stream:
                for frame in read_frames(stream):
                    self.conn.executemany(statement, frame)
                    rows += len(frame)
            self.conn.execute("COMMIT")
        except (sqlite3.Error, msgspec.DecodeError) as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise DatabaseFailure(f"SQLite: {path.name}: {exc}") from None
        return rows

    def execute(self, statement: str) -> None:
        try:
            self.conn.executescript(statement)
        except sqlite3.Error as exc:
            raise _failure(exc) from None

    def close(self) -> None:
        pass
