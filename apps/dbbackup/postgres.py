"""PostgreSQL: DDL from the catalogs, data by COPY, one exported snapshot for every job.

The coordinator opens a REPEATABLE READ transaction and exports its snapshot
(`pg_export_snapshot()`); each job's connection adopts it with `SET TRANSACTION SNAPSHOT`,
so all jobs read the database as of one instant while other sessions keep writing.
Catalog functions (`pg_get_constraintdef`, `pg_get_indexdef`, ...) run with an empty
search_path so every name they print is schema-qualified, as pg_dump does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from psycopg import sql

from apps.dbbackup.compression import iter_blocks
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

USER_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
)
NOT_EXTENSION_MEMBER = (
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
)
WRITE_BUFFER = 1 << 20
TID_RANGE_SCAN_VERSION = 140000


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def qualified(name: str) -> str:
    """`schema.table` (as listed by the source) to a quoted SQL name."""
    schema, _, table = name.partition(".")
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def connect(options: ConnectionOptions, database: str | None = None) -> psycopg.Connection:
    """A connection, or ConnectionFailure with the server's one-line reason."""
    try:
        return psycopg.connect(
            host=options.host,
            port=options.effective_port,
            user=options.user or "postgres",
            password=options.password or None,
            dbname=database or options.database,
            connect_timeout=10,
            application_name="stackyard-dbbackup",
        )
    except psycopg.OperationalError as exc:
        where = f"{options.host}:{options.effective_port}/{database or options.database}"
        raise ConnectionFailure(
            f"cannot connect to PostgreSQL at {where}: {_first_line(exc)}"
        ) from None


def _database_failure(exc: psycopg.Error) -> DatabaseFailure:
    return DatabaseFailure(f"PostgreSQL: {_first_line(exc)}")


class PostgresSource:
    """The coordinator connection: holds the exported snapshot and reads the catalogs."""

    consistency = "repeatable-read exported snapshot (pg_export_snapshot)"

    def __init__(self, options: ConnectionOptions) -> None:
        self.options = options
        self.conn = connect(options)
        try:
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            self.conn.execute("SELECT pg_catalog.set_config('search_path', '', false)")
            row = self.conn.execute(
                "SELECT pg_catalog.pg_export_snapshot(), clock_timestamp()::text, "
                "current_setting('server_version'), current_setting('server_version_num')::int, "
                "current_setting('block_size')::int"
            ).fetchone()
        except psycopg.Error as exc:
            self.conn.close()
            raise _database_failure(exc) from None
        assert row is not None
        self.snapshot_id, self.snapshot_time, version, self.version_num, self.block_size = row
        self.server_version = f"PostgreSQL {version}"
        self._tables: dict[str, dict[str, Any]] = {}

    def _query(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(query, params).fetchall()  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise _database_failure(exc) from None

    def tables(self) -> list[TableInfo]:
        rows = self._query(
            f"""SELECT c.oid, n.nspname || '.' || c.relname, greatest(c.reltuples, 0)::bigint,
                       pg_catalog.pg_relation_size(c.oid)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND NOT c.relispartition AND {USER_SCHEMAS}
                  AND {NOT_EXTENSION_MEMBER.format(oid="c.oid")}
                ORDER BY n.nspname, c.relname"""
        )
        keys = self._query(
            f"""SELECT cn.nspname || '.' || cc.relname, k.conname, pn.nspname || '.' || pc.relname
                FROM pg_constraint k
                JOIN pg_class cc ON cc.oid = k.conrelid
                JOIN pg_namespace cn ON cn.oid = cc.relnamespace
                JOIN pg_class pc ON pc.oid = k.confrelid
                JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                JOIN pg_namespace n ON n.oid = cc.relnamespace
                WHERE k.contype = 'f' AND {USER_SCHEMAS}"""
        )
        infos = []
        for oid, name, tuples, size in rows:
            self._tables[name] = {"oid": oid, "bytes": size}
            fks = [ForeignKey(child, key, parent) for child, key, parent in keys if child == name]
            infos.append(TableInfo(name, int(tuples), int(size), fks))
        return infos

    def lock(self, selected: Sequence[str]) -> None:
        """ACCESS SHARE locks, as pg_dump takes: no DROP or ALTER while we read."""
        if selected:
            names = ", ".join(qualified(n) for n in selected)
            try:
                self.conn.execute(f"LOCK TABLE {names} IN ACCESS SHARE MODE")  # type: ignore[arg-type]
            except psycopg.Error as exc:
                raise _database_failure(exc) from None

    def schema(self, selected: Sequence[str], order: RestoreOrder) -> SchemaFiles:
        self.lock(selected)
        chosen = set(selected)
        tables: dict[str, str] = {}
        columns: dict[str, list[str]] = {}
        for name in order.tables:
            ddl, cols = self._table_ddl(name, chosen, order)
            tables[name] = ddl
            columns[name] = cols
        return SchemaFiles(
            pre_data=self._pre_data(selected),
            tables=tables,
            columns=columns,
            post_data=self._post_data(selected),
            data_format="postgres-copy-text",
        )

    def _pre_data(self, selected: Sequence[str]) -> str:
        out = ["SET check_function_bodies = false;", "SET client_min_messages = warning;"]
        schemas = sorted({n.partition(".")[0] for n in selected} | set(self._user_schemas()))
        out += [f"CREATE SCHEMA IF NOT EXISTS {quote_ident(s)};" for s in schemas]
        for ext, schema in self._query(
            "SELECT e.extname, n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'"
        ):
            out.append(
                f"CREATE EXTENSION IF NOT EXISTS {quote_ident(ext)} "
                f"WITH SCHEMA {quote_ident(schema)};"
            )
        for name, labels in self._query(
            f"""SELECT format('%I.%I', n.nspname, t.typname),
                       array_agg(e.enumlabel ORDER BY e.enumsortorder)
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                JOIN pg_enum e ON e.enumtypid = t.oid
                WHERE {USER_SCHEMAS} AND {NOT_EXTENSION_MEMBER.format(oid="t.oid")}
                GROUP BY 1 ORDER BY 1"""
        ):
            out.append(f"CREATE TYPE {name} AS ENUM ({', '.join(map(quote_literal, labels))});")
        for oid, name, base, default, notnull in self._query(
            f"""SELECT t.oid, format('%I.%I', n.nspname, t.typname),
                       format_type(t.typbasetype, t.typtypmod), t.typdefault, t.typnotnull
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE t.typtype = 'd' AND {USER_SCHEMAS}
                  AND {NOT_EXTENSION_MEMBER.format(oid="t.oid")}
                ORDER BY t.oid"""
        ):
            parts = [f"CREATE DOMAIN {name} AS {base}"]
            if default is not None:
                parts.append(f"DEFAULT {default}")
            if notnull:
                parts.append("NOT NULL")
            for conname, definition in self._query(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contypid = %s ORDER BY conname",
                (oid,),
            ):
                parts.append(f"CONSTRAINT {quote_ident(conname)} {definition}")
            out.append(" ".join(parts) + ";")
        for name, seqtype, start, inc, low, high, cache, cycle in self._query(
            f"""SELECT format('%I.%I', n.nspname, c.relname), format_type(s.seqtypid, NULL),
                       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
                FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE {USER_SCHEMAS} AND {NOT_EXTENSION_MEMBER.format(oid="c.oid")}
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
                                  AND d.classid = 'pg_class'::regclass AND d.deptype = 'i')
                ORDER BY 1"""
        ):
            out.append(
                f"CREATE SEQUENCE {name} AS {seqtype} START WITH {start} INCREMENT BY {inc} "
                f"MINVALUE {low} MAXVALUE {high} CACHE {cache}{' CYCLE' if cycle else ''};"
            )
        for (definition,) in self._query(
            f"""SELECT pg_get_functiondef(p.oid) FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMAS}
                  AND {NOT_EXTENSION_MEMBER.format(oid="p.oid")}
                ORDER BY p.oid"""
        ):
            out.append(definition.rstrip() + ";")
        return "\n".join(out) + "\n"

    def _user_schemas(self) -> list[str]:
        return [
            name
            for (name,) in self._query(
                f"""SELECT n.nspname FROM pg_namespace n WHERE {USER_SCHEMAS}
                    AND {NOT_EXTENSION_MEMBER.format(oid="n.oid")}"""
            )
        ]

    def _table_ddl(self, name: str, chosen: set[str], order: RestoreOrder) -> tuple[str, list[str]]:
        oid = self._tables[name]["oid"]
        target = qualified(name)
        cols = self._query(
            """SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                      pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                      CASE WHEN a.attcollation <> t.typcollation
                           THEN (SELECT format('%%I.%%I', cn.nspname, co.collname)
                                 FROM pg_collation co
                                 JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                 WHERE co.oid = a.attcollation) END,
                      col_description(a.attrelid, a.attnum),
                      pg_get_serial_sequence(%s, a.attname)
               FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
               LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
               WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
               ORDER BY a.attnum""",
            (target, oid),
        )
        lines: list[str] = []
        data_columns: list[str] = []
        comments: list[str] = []
        owned: list[str] = []
        for col, typ, notnull, default, identity, generated, coll, comment, seq in cols:
            parts = [quote_ident(col), typ]
            if coll:
                parts.append(f"COLLATE {coll}")
            if generated == "s":
                parts.append(f"GENERATED ALWAYS AS ({default}) STORED")
            elif identity:
                kind = "ALWAYS" if identity == "a" else "BY DEFAULT"
                parts.append(f"GENERATED {kind} AS IDENTITY ({self._identity_options(seq)})")
            elif default is not None:
                parts.append(f"DEFAULT {default}")
                if seq:
                    owned.append(f"ALTER SEQUENCE {seq} OWNED BY {target}.{quote_ident(col)};")
            if notnull:
                parts.append("NOT NULL")
            lines.append("    " + " ".join(parts))
            if generated != "s":
                data_columns.append(col)
            if comment is not None:
                comments.append(
                    f"COMMENT ON COLUMN {target}.{quote_ident(col)} IS {quote_literal(comment)};"
                )
        out = [f"CREATE TABLE {target} (\n" + ",\n".join(lines) + "\n);"]
        deferred: list[str] = []
        for conname, contype, definition, parent in self._query(
            """SELECT k.conname, k.contype, pg_get_constraintdef(k.oid),
                      CASE WHEN k.contype = 'f'
                           THEN (SELECT n.nspname || '.' || c.relname FROM pg_class c
                                 JOIN pg_namespace n ON n.oid = c.relnamespace
                                 WHERE c.oid = k.confrelid) END
               FROM pg_constraint k WHERE k.conrelid = %s
               ORDER BY position(k.contype in 'pucxf'), k.conname""",
            (oid,),
        ):
            statement = (
                f"ALTER TABLE ONLY {target} ADD CONSTRAINT {quote_ident(conname)} {definition};"
            )
            if contype == "f":
                if parent not in chosen:
                    continue
                if order.is_deferred(ForeignKey(name, conname, parent)):
                    deferred.append(statement)
                    continue
            out.append(statement)
        out += owned
        (table_comment,) = self._query("SELECT obj_description(%s, 'pg_class')", (oid,))[0]
        if table_comment is not None:
            out.append(f"COMMENT ON TABLE {target} IS {quote_literal(table_comment)};")
        out += comments
        indexes = self._query(
            """SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
               WHERE i.indrelid = %s AND NOT EXISTS (
                   SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                   AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
               ORDER BY i.indexrelid""",
            (oid,),
        )
        out.append(INDEXES_MARKER)
        out += [f"{definition};" for (definition,) in indexes]
        out.append(DEFERRED_MARKER)
        out += deferred
        return "\n".join(out) + "\n", data_columns

    def _identity_options(self, sequence: str) -> str:
        (row,) = self._query(
            """SELECT s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
               FROM pg_sequence s WHERE s.seqrelid = %s::regclass""",
            (sequence,),
        )
        start, inc, low, high, cache, cycle = row
        return (
            f"SEQUENCE NAME {sequence} START WITH {start} INCREMENT BY {inc} "
            f"MINVALUE {low} MAXVALUE {high} CACHE {cache}{' CYCLE' if cycle else ''}"
        )

    def _post_data(self, selected: Sequence[str]) -> str:
        out = ["SET client_min_messages = warning;"]
        oids = [self._tables[n]["oid"] for n in selected]
        for (name,) in self._query(
            f"""SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'S' AND {USER_SCHEMAS}
                  AND {NOT_EXTENSION_MEMBER.format(oid="c.oid")} ORDER BY 1"""
        ):
            (last, called) = self._query(f"SELECT last_value, is_called FROM {name}")[0]
            out.append(
                f"SELECT pg_catalog.setval({quote_literal(name)}, {last}, {str(called).lower()});"
            )
        out += self._views()
        for (definition,) in self._query(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE NOT tgisinternal AND tgrelid = ANY(%s) ORDER BY tgrelid, tgname",
            (oids,),
        ):
            out.append(definition + ";")
        return "\n".join(out) + "\n"

    def _views(self) -> list[str]:
        views = self._query(
            f"""SELECT c.oid, format('%I.%I', n.nspname, c.relname), c.relkind,
                       pg_get_viewdef(c.oid), obj_description(c.oid, 'pg_class')
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('v', 'm') AND {USER_SCHEMAS}
                  AND {NOT_EXTENSION_MEMBER.format(oid="c.oid")} ORDER BY c.oid"""
        )
        by_oid = {oid: name for oid, name, *_ in views}
        uses = self._query(
            """SELECT DISTINCT r.ev_class, d.refobjid FROM pg_rewrite r
               JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass
               WHERE r.ev_class = ANY(%s) AND d.refobjid <> r.ev_class""",
            (list(by_oid),),
        )
        keys = [
            ForeignKey(by_oid[view], f"uses-{used}", by_oid[used])
            for view, used in uses
            if used in by_oid
        ]
        ordered = restore_order([name for _, name, *_ in views], keys).tables
        definitions = {name: (kind, body, comment) for _, name, kind, body, comment in views}
        out = []
        for name in ordered:
            kind, body, comment = definitions[name]
            if kind == "m":
                out.append(f"CREATE MATERIALIZED VIEW {name} AS\n{body.rstrip(';')}\nWITH DATA;")
            else:
                out.append(f"CREATE VIEW {name} AS\n{body}")
            if comment is not None:
                what = "MATERIALIZED VIEW" if kind == "m" else "VIEW"
                out.append(f"COMMENT ON {what} {name} IS {quote_literal(comment)};")
        return out

    def chunks(self, table: TableInfo, chunk_bytes: int) -> list[Chunk]:
        size = self._tables[table.name]["bytes"]
        count = max(1, math.ceil(size / chunk_bytes)) if chunk_bytes > 0 else 1
        if count == 1 or self.version_num < TID_RANGE_SCAN_VERSION:
            return [Chunk(table.name, 0, None, table.estimated_rows)]
        pages = math.ceil(size / self.block_size)
        step = math.ceil(pages / count)
        chunks = []
        for index, start in enumerate(range(0, pages, step)):
            lower = f"ctid >= '({start},0)'::tid"
            end = start + step
            predicate = lower if end >= pages else f"{lower} AND ctid < '({end},0)'::tid"
            chunks.append(Chunk(table.name, index, predicate, table.estimated_rows // count))
        return chunks

    def open_dumpers(self, count: int) -> list[PostgresDumper]:
        return [PostgresDumper(self.options, self.snapshot_id) for _ in range(count)]

    def close(self) -> None:
        self.conn.close()


class PostgresDumper:
    """One job: a connection that adopted the coordinator's snapshot."""

    def __init__(self, options: ConnectionOptions, snapshot_id: str) -> None:
        self.conn = connect(options)
        try:
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            self.conn.execute(f"SET TRANSACTION SNAPSHOT {quote_literal(snapshot_id)}")
            self.conn.execute("SELECT pg_catalog.set_config('search_path', '', false)")
        except psycopg.Error as exc:
            self.conn.close()
            raise _database_failure(exc) from None

    def dump(self, chunk: Chunk, columns_of_table: Sequence[str], out: BinaryIO) -> int:
        columns = ", ".join(quote_ident(c) for c in columns_of_table)
        if chunk.predicate is None:
            statement = f"COPY {qualified(chunk.table)} ({columns}) TO STDOUT"
        else:
            statement = (
                f"COPY (SELECT {columns} FROM ONLY {qualified(chunk.table)} "
                f"WHERE {chunk.predicate}) TO STDOUT"
            )
        rows = 0
        pending = bytearray()
        try:
            with self.conn.cursor().copy(statement) as copy:  # type: ignore[arg-type]
                for block in copy:
                    pending += block
                    if len(pending) >= WRITE_BUFFER:
                        rows += pending.count(b"\n")
                        out.write(pending)
                        pending.clear()
        except psycopg.Error as exc:
            raise _database_failure(exc) from None
        rows += pending.count(b"\n")
        out.write(pending)
        return rows

    def close(self) -> None:
        self.conn.close()


class PostgresTarget:
    """The restore's DDL connection; loaders open their own."""

    def __init__(self, options: ConnectionOptions, create: bool, tables: Sequence[str]) -> None:
        self.options = options
        self.created = False
        if create:
            self._create_database()
            self.created = True
        self.conn = connect(options)
        self.conn.autocommit = True
        try:
            self.conn.execute("SELECT pg_catalog.set_config('search_path', '', false)")
            version = self.conn.execute("SHOW server_version").fetchone()
            present = self.conn.execute(
                "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm') "
                "AND n.nspname || '.' || c.relname = ANY(%s)",
                (list(tables),),
            ).fetchall()
        except psycopg.Error as exc:
            self.conn.close()
            raise _database_failure(exc) from None
        self.server_version = f"PostgreSQL {version[0] if version else '?'}"
        if present:
            self.conn.close()
            names = ", ".join(sorted(r[0] for r in present)[:5])
            raise DestinationRefused(
                f"database {options.database!r} already has tables of this backup ({names}); "
                "restore into a new database (--create-db)"
            )

    def _create_database(self) -> None:
        with connect(self.options, "postgres") as admin:
            admin.autocommit = True
            try:
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                        sql.Identifier(self.options.database)
                    )
                )
            except psycopg.errors.DuplicateDatabase:
                raise DestinationRefused(
                    f"database {self.options.database!r} already exists; choose a new name"
                ) from None
            except psycopg.Error as exc:
                raise _database_failure(exc) from None

    def run_script(self, script: str) -> None:
        if not script.strip():
            return
        try:
            with self.conn.transaction():
                self.conn.execute(script)  # type: ignore[call-overload]
        except psycopg.Error as exc:
            raise _database_failure(exc) from None

    def open_loaders(self, count: int) -> list[PostgresLoader]:
        return [PostgresLoader(self.options) for _ in range(count)]

    def finish(self) -> None:
        try:
            self.conn.execute("ANALYZE")
        except psycopg.Error as exc:
            raise _database_failure(exc) from None

    def abort(self) -> None:
        self.conn.close()
        if not self.created:
            return
        with connect(self.options, "postgres") as admin:
            admin.autocommit = True
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.options.database)
                )
            )

    def close(self) -> None:
        self.conn.close()


class PostgresLoader:
    """One restore job: COPY FROM STDIN, index builds, deferred keys."""

    def __init__(self, options: ConnectionOptions) -> None:
        self.conn = connect(options)
        self.conn.autocommit = True
        try:
            self.conn.execute("SELECT pg_catalog.set_config('search_path', '', false)")
            self.conn.execute("SET synchronous_commit = off")
            self.conn.execute("SET maintenance_work_mem = '256MB'")
        except psycopg.Error as exc:
            self.conn.close()
            raise _database_failure(exc) from None

    def load(self, table: str, columns: Sequence[str], path: Path) -> int:
        names = ", ".join(quote_ident(c) for c in columns)
        statement = f"COPY {qualified(table)} ({names}) FROM STDIN"
        try:
            with self.conn.transaction(), self.conn.cursor() as cursor:
                with cursor.copy(statement) as copy:  # type: ignore[arg-type]
                    for block in iter_blocks(path):
                        copy.write(block)
                return cursor.rowcount
        except psycopg.Error as exc:
            raise _database_failure(exc) from None

    def execute(self, statement: str) -> None:
        try:
            self.conn.execute(statement)  # type: ignore[call-overload]
        except psycopg.Error as exc:
            raise _database_failure(exc) from None

    def close(self) -> None:
        self.conn.close()
