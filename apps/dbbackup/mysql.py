"""MySQL and MariaDB: DDL from SHOW CREATE, data as multi-row INSERTs, mydumper's snapshot.

Consistency follows mydumper: the coordinator takes `FLUSH TABLES WITH READ LOCK`, every job
opens `START TRANSACTION WITH CONSISTENT SNAPSHOT` while writes are blocked, then the lock is
released, so all jobs read one instant. Without the RELOAD privilege the backup falls back to
a single transaction on one connection (still consistent, not parallel).

Rows are formatted by the server (QUOTE, HEX) into one SQL tuple per row, so the Python side
only joins bytes; newlines inside strings are escaped so each INSERT is exactly one line.
Sessions use time_zone '+00:00' on both ends, so TIMESTAMP values round-trip exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pymysql
import pymysql.cursors

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
from apps.dbbackup.ordering import ForeignKey, RestoreOrder, restore_order

CONNECT_ERRORS = {1044, 1045, 1049, 2002, 2003, 2005, 2013}
NO_PRIVILEGE = {1045, 1227}
INSERT_BYTES = 1 << 20
FETCH_ROWS = 10_000
BINARY_TYPES = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
SPATIAL_TYPES = {
    "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
    "multipolygon", "geometrycollection",
}  # fmt: skip
NUMERIC_TYPES = {
    "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric",
    "float", "double", "real", "year",
}  # fmt: skip
UTF8_CHARSETS = {None, "utf8mb4", "utf8mb3", "utf8", "ascii", "binary"}
DEFINER = re.compile(r"\s+DEFINER=`(?:[^`]|``)*`@`(?:[^`]|``)*`")
RESTORE_SQL_MODE = "NO_AUTO_VALUE_ON_ZERO"


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def quote_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _error(exc: pymysql.MySQLError) -> tuple[int, str]:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    return code, message.strip().splitlines()[0] if message.strip() else type(exc).__name__


def _database_failure(exc: pymysql.MySQLError) -> DatabaseFailure:
    code, message = _error(exc)
    return DatabaseFailure(f"MySQL error {code}: {message}")


def connect(options: ConnectionOptions, database: str | None = "") -> pymysql.Connection:
    """A utf8mb4, UTC session, or ConnectionFailure with the server's one-line reason."""
    try:
        conn = pymysql.connect(
            host=options.host,
            port=options.effective_port,
            user=options.user or "root",
            password=options.password or "",
            database=options.database if database == "" else database,
            charset="utf8mb4",
            connect_timeout=10,
            autocommit=True,
        )
    except pymysql.MySQLError as exc:
        _, message = _error(exc)
        where = f"{options.host}:{options.effective_port}/{options.database}"
        raise ConnectionFailure(f"cannot connect to MySQL at {where}: {message}") from None
    with conn.cursor() as cursor:
        cursor.execute("SET time_zone = '+00:00'")
    return conn


def statements(script: str) -> Iterator[str]:
    """Split a script on `;` at line ends, honouring `DELIMITER` lines as the mysql client does."""
    delimiter = ";"
    buffer: list[str] = []
    for line in script.splitlines():
        stripped = line.strip()
        if not buffer and stripped.upper().startswith("DELIMITER "):
            delimiter = stripped.split(None, 1)[1]
            continue
        if not buffer and (not stripped or stripped.startswith("-- ")):
            continue
        buffer.append(line)
        if stripped.endswith(delimiter):
            text = "\n".join(buffer).rstrip()
            yield text[: -len(delimiter)]
            buffer = []
    if buffer and "\n".join(buffer).strip():
        yield "\n".join(buffer)


class MysqlSource:
    """Coordinator: holds the global read lock until every job has its snapshot."""

    def __init__(self, options: ConnectionOptions) -> None:
        self.options = options
        self.conn = connect(options)
        self.locked = False
        try:
            with self.conn.cursor() as cursor:
                try:
                    cursor.execute("FLUSH TABLES WITH READ LOCK")
                    self.locked = True
                except pymysql.MySQLError as exc:
                    if _error(exc)[0] not in NO_PRIVILEGE:
                        raise
                cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
                cursor.execute(
                    "SELECT VERSION(), DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ')"
                )
                version, self.snapshot_time = cursor.fetchone()
        except pymysql.MySQLError as exc:
            self.conn.close()
            raise _database_failure(exc) from None
        flavour = "MariaDB" if "mariadb" in version.lower() else "MySQL"
        self.server_version = f"{flavour} {version}"
        self.consistency = (
            "FLUSH TABLES WITH READ LOCK, then START TRANSACTION WITH CONSISTENT SNAPSHOT per job"
            if self.locked
            else "single transaction (WITH CONSISTENT SNAPSHOT; no RELOAD privilege, one job)"
        )
        self._tables: dict[str, dict[str, Any]] = {}

    def _query(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(query, params)
                return list(cursor.fetchall())
        except pymysql.MySQLError as exc:
            raise _database_failure(exc) from None

    def tables(self) -> list[TableInfo]:
        db = self.options.database
        rows = self._query(
            "SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0) "
            "FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' "
            "ORDER BY TABLE_NAME",
            (db,),
        )
        keys = self._query(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME "
            "FROM information_schema.REFERENTIAL_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = %s AND UNIQUE_CONSTRAINT_SCHEMA = %s",
            (db, db),
        )
        infos = []
        for name, estimated, size in rows:
            self._tables[name] = {"bytes": int(size)}
            fks = [ForeignKey(c, k, p) for c, k, p in keys if c == name]
            infos.append(TableInfo(name, int(estimated), int(size), fks))
        return infos

    def _columns(self, table: str) -> list[tuple[str, str, str | None, str]]:
        return [
            (name, data_type.lower(), charset, generated)
            for name, data_type, charset, generated in self._query(
                "SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_SET_NAME, IS_GENERATED "
                "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
                "ORDER BY ORDINAL_POSITION",
                (self.options.database, table),
            )
        ]

    def schema(self, selected: Sequence[str], order: RestoreOrder) -> SchemaFiles:
        chosen = set(selected)
        keys = {
            (child, name): parent
            for child, name, parent in self._query(
                "SELECT TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME "
                "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s",
                (self.options.database,),
            )
        }
        tables: dict[str, str] = {}
        columns: dict[str, list[str]] = {}
        self.expressions: dict[str, str] = {}
        for name in order.tables:
            ((_, create),) = self._query(f"SHOW CREATE TABLE {quote_ident(name)}")
            tables[name] = self._table_ddl(name, create, keys, chosen, order)
            cols = self._columns(name)
            data_cols = [c for c in cols if c[3] == "NEVER"]
            columns[name] = [c[0] for c in data_cols]
            self.expressions[name] = ", ',', ".join(self._value_sql(*c[:3]) for c in data_cols)
        ((charset, collation),) = self._query(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
            "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            (self.options.database,),
        )
        pre = [
            "SET NAMES utf8mb4;",
            f"ALTER DATABASE CHARACTER SET {charset} COLLATE {collation};",
        ]
        return SchemaFiles(
            pre_data="\n".join(pre) + "\n",
            tables=tables,
            columns=columns,
            post_data=self._post_data(chosen),
            data_format="mysql-insert",
        )

    def _table_ddl(
        self,
        name: str,
        create: str,
        keys: dict[tuple[str, str], str],
        chosen: set[str],
        order: RestoreOrder,
    ) -> str:
        kept: list[str] = []
        deferred: list[str] = []
        for line in create.splitlines():
            match = re.match(r"\s*CONSTRAINT `((?:[^`]|``)*)` FOREIGN KEY", line)
            if match:
                key = match.group(1).replace("``", "`")
                parent = keys.get((name, key))
                if parent not in chosen:
                    continue
                if order.is_deferred(ForeignKey(name, key, parent)):
                    clause = line.strip().rstrip(",")
                    deferred.append(f"ALTER TABLE {quote_ident(name)} ADD {clause};")
                    continue
            kept.append(line)
        for i in range(len(kept) - 1):
            if kept[i + 1].startswith(")") and kept[i].endswith(","):
                kept[i] = kept[i][:-1]
        return "\n".join(["\n".join(kept) + ";", INDEXES_MARKER, DEFERRED_MARKER, *deferred, ""])

    @staticmethod
    def _value_sql(column: str, data_type: str, charset: str | None) -> str:
        """SQL that renders one column as an SQL literal, on one line."""
        col = quote_ident(column)
        if data_type in BINARY_TYPES or data_type in SPATIAL_TYPES:
            return f"IF({col} IS NULL, 'NULL', CONCAT('X''', HEX({col}), ''''))"
        if data_type == "bit":
            return f"IFNULL(CAST({col} AS UNSIGNED), 'NULL')"
        if data_type in NUMERIC_TYPES:
            return f"IFNULL({col}, 'NULL')"
        text = col if charset in UTF8_CHARSETS else f"CONVERT({col} USING utf8mb4)"
        return f"REPLACE(REPLACE(QUOTE({text}), '\\n', '\\\\n'), '\\r', '\\\\r')"

    def _post_data(self, chosen: set[str]) -> str:
        db = self.options.database
        out = ["SET NAMES utf8mb4;"]
        routines = self._query(
            "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES "
            "WHERE ROUTINE_SCHEMA = %s ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
            (db,),
        )
        for kind, name in routines:
            row = self._query(f"SHOW CREATE {kind} {quote_ident(name)}")[0]
            out += self._delimited(row[1], row[2])
        views = [n for (n,) in self._query(
            "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s "
            "ORDER BY TABLE_NAME",
            (db,),
        )]  # fmt: skip
        bodies = {v: DEFINER.sub("", self._query(f"SHOW CREATE VIEW {quote_ident(v)}")[0][1])
                  for v in views}  # fmt: skip
        uses = [
            ForeignKey(v, u, u)
            for v in views
            for u in views
            if u != v and quote_ident(u) in bodies[v]
        ]
        out += [bodies[v] + ";" for v in restore_order(views, uses).tables]
        for name, table in self._query(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = %s ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
            (db,),
        ):
            if table in chosen:
                row = self._query(f"SHOW CREATE TRIGGER {quote_ident(name)}")[0]
                out += self._delimited(row[1], row[2])
        out.append(f"SET SESSION sql_mode = {quote_literal(RESTORE_SQL_MODE)};")
        return "\n".join(out) + "\n"

    @staticmethod
    def _delimited(sql_mode: str, body: str) -> list[str]:
        """A routine or trigger with its own sql_mode, between DELIMITER lines."""
        return [
            f"SET SESSION sql_mode = {quote_literal(sql_mode)};",
            "DELIMITER ;;",
            DEFINER.sub("", body, count=1) + ";;",
            "DELIMITER ;",
        ]

    def chunks(self, table: TableInfo, chunk_bytes: int) -> list[Chunk]:
        size = self._tables[table.name]["bytes"]
        count = max(1, math.ceil(size / chunk_bytes)) if chunk_bytes > 0 else 1
        key = self._integer_key(table.name) if count > 1 else None
        if key is None:
            return [Chunk(table.name, 0, None, table.estimated_rows)]
        ((low, high),) = self._query(
            f"SELECT MIN({key}), MAX({key}) FROM {quote_ident(table.name)}"
        )
        if low is None:
            return [Chunk(table.name, 0, None, table.estimated_rows)]
        step = max(1, math.ceil((int(high) - int(low) + 1) / count))
        bounds = list(range(int(low) + step, int(high) + 1, step))
        predicates = []
        for i in range(len(bounds) + 1):
            parts = []
            if i > 0:
                parts.append(f"{key} >= {bounds[i - 1]}")
            if i < len(bounds):
                parts.append(f"{key} < {bounds[i]}")
            predicates.append(" AND ".join(parts))
        share = table.estimated_rows // len(predicates)
        return [Chunk(table.name, i, p, share) for i, p in enumerate(predicates)]

    def _integer_key(self, table: str) -> str | None:
        rows = self._query(
            "SELECT k.COLUMN_NAME, c.DATA_TYPE FROM information_schema.KEY_COLUMN_USAGE k "
            "JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = k.TABLE_SCHEMA "
            "AND c.TABLE_NAME = k.TABLE_NAME AND c.COLUMN_NAME = k.COLUMN_NAME "
            "WHERE k.TABLE_SCHEMA = %s AND k.TABLE_NAME = %s AND k.CONSTRAINT_NAME = 'PRIMARY'",
            (self.options.database, table),
        )
        if len(rows) == 1 and rows[0][1].lower() in {
            "tinyint", "smallint", "mediumint", "int", "bigint",
        }:  # fmt: skip
            return quote_ident(rows[0][0])
        return None

    def open_dumpers(self, count: int) -> list[MysqlDumper]:
        if not self.locked:
            return [MysqlDumper(self.conn, self.expressions, owned=False)]
        dumpers: list[MysqlDumper] = []
        try:
            for _ in range(count):
                conn = connect(self.options)
                dumpers.append(MysqlDumper(conn, self.expressions, owned=True))
                with conn.cursor() as cursor:
                    cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        except pymysql.MySQLError as exc:
            for dumper in dumpers:
                dumper.close()
            raise _database_failure(exc) from None
        finally:
            self._unlock()
        return dumpers

    def _unlock(self) -> None:
        if self.locked:
            self._query("UNLOCK TABLES")
            self.locked = False

    def close(self) -> None:
        try:
            self._unlock()
        finally:
            self.conn.close()


class MysqlDumper:
    """One job: streams a SELECT (unbuffered) and writes INSERT statements of about 1 MiB."""

    def __init__(self, conn: pymysql.Connection, expressions: dict[str, str], owned: bool) -> None:
        self.conn = conn
        self.expressions = expressions
        self.owned = owned

    def dump(self, chunk: Chunk, columns: Sequence[str], out: BinaryIO) -> int:
        table = quote_ident(chunk.table)
        where = f" WHERE {chunk.predicate}" if chunk.predicate else ""
        query = (
            f"SELECT CAST(CONCAT('(', {self.expressions[chunk.table]}, ')') AS BINARY) "
            f"FROM {table}{where}"
        )
        names = ",".join(quote_ident(c) for c in columns)
        prefix = f"INSERT INTO {table} ({names}) VALUES ".encode()
        rows = 0
        batch: list[bytes] = []
        size = 0
        try:
            with self.conn.cursor(pymysql.cursors.SSCursor) as cursor:
                cursor.execute(query)
                while fetched := cursor.fetchmany(FETCH_ROWS):
                    for (value,) in fetched:
                        batch.append(value)
                        size += len(value) + 1
                        if size >= INSERT_BYTES:
                            out.write(prefix + b",".join(batch) + b";\n")
                            rows += len(batch)
                            batch, size = [], 0
        except pymysql.MySQLError as exc:
            raise _database_failure(exc) from None
        if batch:
            out.write(prefix + b",".join(batch) + b";\n")
            rows += len(batch)
        return rows

    def close(self) -> None:
        if self.owned:
            self.conn.close()


class MysqlTarget:
    """The restore's DDL connection; loaders open their own."""

    def __init__(self, options: ConnectionOptions, create: bool, tables: Sequence[str]) -> None:
        self.options = options
        self.created = False
        if create:
            admin = connect(options, database=None)
            try:
                with admin.cursor() as cursor:
                    cursor.execute("SHOW DATABASES LIKE %s", (options.database,))
                    if cursor.fetchone():
                        raise DestinationRefused(
                            f"database {options.database!r} already exists; choose a new name"
                        )
                    cursor.execute(f"CREATE DATABASE {quote_ident(options.database)}")
                    self.created = True
            except pymysql.MySQLError as exc:
                raise _database_failure(exc) from None
            finally:
                admin.close()
        self.conn = connect(options)
        present = self._fetch(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
            (options.database,),
        )
        clash = sorted({name for (name,) in present} & set(tables))
        version = self._fetch("SELECT VERSION()")[0][0]
        self.server_version = f"MySQL {version}"
        if clash:
            self.conn.close()
            raise DestinationRefused(
                f"database {options.database!r} already has tables of this backup "
                f"({', '.join(clash[:5])}); restore into a new database (--create-db)"
            )
        self._session(self.conn)

    @staticmethod
    def _session(conn: pymysql.Connection) -> None:
        with conn.cursor() as cursor:
            cursor.execute(f"SET SESSION sql_mode = {quote_literal(RESTORE_SQL_MODE)}")

    def _fetch(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(query, params)
                return list(cursor.fetchall())
        except pymysql.MySQLError as exc:
            raise _database_failure(exc) from None

    def run_script(self, script: str) -> None:
        try:
            with self.conn.cursor() as cursor:
                for statement in statements(script):
                    cursor.execute(statement)
        except pymysql.MySQLError as exc:
            raise _database_failure(exc) from None

    def open_loaders(self, count: int) -> list[MysqlLoader]:
        loaders = []
        for _ in range(count):
            conn = connect(self.options)
            self._session(conn)
            loaders.append(MysqlLoader(conn))
        return loaders

    def finish(self) -> None:
        pass

    def abort(self) -> None:
        self.conn.close()
        if self.created:
            admin = connect(self.options, database=None)
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {quote_ident(self.options.database)}")
            admin.close()

    def close(self) -> None:
        self.conn.close()


class MysqlLoader:
    """One restore job: runs a data file's INSERTs (one per line) in one transaction."""

    def __init__(self, conn: pymysql.Connection) -> None:
        self.conn = conn

    def load(self, table: str, columns: Sequence[str], path: Path) -> int:
        rows = 0
        try:
            self.conn.begin()
            with self.conn.cursor() as cursor, open_reader(path) as stream:
                for line in _lines(stream):
                    rows += cursor.execute(line)
            self.conn.commit()
        except pymysql.MySQLError as exc:
            self.conn.rollback()
            raise _database_failure(exc) from None
        return rows

    def execute(self, statement: str) -> None:
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(statement)
        except pymysql.MySQLError as exc:
            raise _database_failure(exc) from None

    def close(self) -> None:
        self.conn.close()


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    """Lines split on b'\\n' only (strings hold no raw newline; other breaks are data)."""
    pending = b""
    while block := stream.read(1 << 20):
        pending += block
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line)
    if pending:
        yield pending
