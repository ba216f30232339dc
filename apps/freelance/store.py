"""The SQLite file that holds projects, time entries and settings.

Plain `sqlite3`: one local file for one user, a handful of tables, and the transactions must
be exact (`BEGIN IMMEDIATE` takes the write lock before the running timer is read, so two
terminals starting timers at once are serialised). An ORM would add startup time to every
keystroke-sized command and nothing the domain needs. Instants are INTEGER Unix seconds (UTC);
a partial unique index makes a second running timer impossible even for a writer that skips
this module.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from apps.freelance.errors import Conflict, InvalidInput, NotFound, StorageError

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    rate TEXT,
    currency TEXT,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE RESTRICT,
    start INTEGER NOT NULL,
    end INTEGER,
    note TEXT NOT NULL DEFAULT '',
    CHECK (end IS NULL OR end >= start)
);
CREATE INDEX IF NOT EXISTS entries_by_start ON entries(start);
CREATE UNIQUE INDEX IF NOT EXISTS entries_one_running ON entries((end IS NULL))
    WHERE end IS NULL;
CREATE TABLE IF NOT EXISTS entry_tags (
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (entry_id, tag)
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
RESERVED_NAMES = {"all"}
BUSY_TIMEOUT_SECONDS = 10.0


class OnStart(StrEnum):
    """What `start` does while another timer runs."""

    STOP = "stop"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    rate: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class Entry:
    """One chunk of time on a project; `end` is None while the timer runs."""

    id: int
    project: str
    start: datetime
    end: datetime | None
    note: str
    tags: tuple[str, ...]

    @property
    def running(self) -> bool:
        return self.end is None


@dataclass(frozen=True)
class Started:
    entry: Entry
    stopped: Entry | None


def default_db_path() -> Path:
    """`$FREELANCE_DB`, else `freelance.db` in the XDG data dir (`$XDG_DATA_HOME/freelance`)."""
    explicit = os.environ.get("FREELANCE_DB", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_data_path

    return user_data_path("freelance", appauthor=False) / "freelance.db"


def validate_project_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("a project name cannot be empty")
    if name.lower() in RESERVED_NAMES:
        raise InvalidInput(f"{name!r} is reserved (it means every project in reports)")
    if name[0] in "+-" or any(ch.isspace() for ch in name) or len(name) > 64:
        raise InvalidInput(
            f"{name!r} is not a project name (no spaces, not starting with + or -, "
            "at most 64 characters)"
        )
    return name


def validate_tag(tag: str) -> str:
    tag = tag.strip().lstrip("+").lower()
    if not tag or any(ch.isspace() or ch == "," for ch in tag) or len(tag) > 40:
        raise InvalidInput(f"{tag!r} is not a tag (no spaces or commas, at most 40 characters)")
    return tag


def _epoch(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return int(instant.timestamp())


def _instant(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class Store:
    """Projects, entries and settings in one SQLite file; every write is one transaction."""

    def __init__(self, path: Path, zone: tzinfo = UTC) -> None:
        self.path = path
        self.zone = zone
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
            self._con.row_factory = sqlite3.Row
            self._con.execute("PRAGMA foreign_keys = ON")
            self._con.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the database {path}: {exc}") from None

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the lock is taken up front so reads inside it stay true."""
        con = self._con
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StorageError(f"the database {self.path} stays locked: {exc}") from None
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        else:
            con.execute("COMMIT")

    def _migrate(self) -> None:
        (version,) = self._con.execute("PRAGMA user_version").fetchone()
        if version >= SCHEMA_VERSION:
            return
        with self._write() as con:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- reading ---------------------------------------------------------------------------

    def _entries(self, where: str, params: Sequence[object]) -> list[Entry]:
        rows = self._con.execute(
            f"""
            SELECT e.id, p.name AS project, e.start, e.end, e.note,
                   (SELECT group_concat(tag, ',') FROM
                        (SELECT tag FROM entry_tags t WHERE t.entry_id = e.id ORDER BY tag))
                   AS tags
            FROM entries e JOIN projects p ON p.id = e.project_id
            WHERE {where}
            ORDER BY e.start, e.id
            """,
            params,
        ).fetchall()
        return [
            Entry(
                id=row["id"],
                project=row["project"],
                start=_instant(row["start"]),  # type: ignore[arg-type]
                end=_instant(row["end"]),
                note=row["note"],
                tags=tuple(row["tags"].split(",")) if row["tags"] else (),
            )
            for row in rows
        ]

    def running(self) -> Entry | None:
        found = self._entries("e.end IS NULL", ())
        return found[0] if found else None

    def entry(self, entry_id: int) -> Entry:
        found = self._entries("e.id = ?", (entry_id,))
        if not found:
            raise NotFound(f"no entry #{entry_id}")
        return found[0]

    def entries_overlapping(
        self, start: datetime | None, end: datetime, project: str | None = None
    ) -> list[Entry]:
        """Entries with any time inside [start, end); a running entry runs until `end`."""
        where = "e.start < ? AND (e.end IS NULL OR e.end > ?)"
        params: list[object] = [_epoch(end), _epoch(start) if start else -(2**62)]
        if project is not None:
            where += " AND p.name = ? COLLATE NOCASE"
            params.append(project)
        return self._entries(where, params)

    def recent_entries(self, limit: int, project: str | None = None) -> list[Entry]:
        """The `limit` latest entries (of one project, if named), oldest first."""
        rows = self._con.execute(
            "SELECT e.id FROM entries e JOIN projects p ON p.id = e.project_id "
            "WHERE ? IS NULL OR p.name = ? COLLATE NOCASE "
            "ORDER BY e.start DESC, e.id DESC LIMIT ?",
            (project, project, limit),
        ).fetchall()
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        return self._entries(f"e.id IN ({','.join('?' * len(ids))})", ids)

    def projects(self) -> list[Project]:
        rows = self._con.execute(
            "SELECT id, name, rate, currency FROM projects ORDER BY name COLLATE NOCASE"
        ).fetchall()
        return [self._project(row) for row in rows]

    def project(self, name: str) -> Project:
        row = self._con.execute(
            "SELECT id, name, rate, currency FROM projects WHERE name = ? COLLATE NOCASE",
            (name,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no project named {name!r} (see `freelance projects`)")
        return self._project(row)

    @staticmethod
    def _project(row: sqlite3.Row) -> Project:
        rate = Decimal(row["rate"]) if row["rate"] is not None else None
        return Project(row["id"], row["name"], rate, row["currency"])

    def project_names(self) -> list[str]:
        return [row[0] for row in self._con.execute("SELECT name FROM projects ORDER BY name")]

    def setting(self, key: str) -> str | None:
        row = self._con.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def settings(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self._con.execute("SELECT key, value FROM settings")}

    # -- writing ---------------------------------------------------------------------------

    def set_setting(self, key: str, value: str | None) -> None:
        with self._write() as con:
            if value is None:
                con.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                con.execute(
                    "INSERT INTO settings(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    def set_rate(self, name: str, rate: Decimal | None, currency: str | None) -> Project:
        with self._write() as con:
            project_id = self._ensure_project(con, name)
            con.execute(
                "UPDATE projects SET rate = ?, currency = ? WHERE id = ?",
                (str(rate) if rate is not None else None, currency, project_id),
            )
        return self.project(name)

    def start_timer(
        self,
        project: str,
        at: datetime,
        *,
        tags: Sequence[str] = (),
        note: str = "",
        on_start: OnStart = OnStart.STOP,
    ) -> Started:
        """Start a timer at `at`; a running one is stopped at `at`, or the start refused."""
        project = validate_project_name(project)
        tags = sorted({validate_tag(tag) for tag in tags})
        with self._write() as con:
            current = self.running()
            stopped = None
            if current is not None:
                if current.project.lower() == project.lower() and list(current.tags) == tags:
                    raise Conflict(
                        f"already tracking {current.project} since {self._show(current.start)}"
                    )
                if on_start is OnStart.REFUSE:
                    raise Conflict(
                        f"a timer is already running on {current.project} since "
                        f"{self._show(current.start)}; stop it first or use --if-running stop"
                    )
                if at < current.start:
                    raise InvalidInput(
                        f"{self._show(at)} is before the running timer's start "
                        f"{self._show(current.start)}"
                    )
                con.execute("UPDATE entries SET end = ? WHERE id = ?", (_epoch(at), current.id))
                stopped = current
            self._refuse_overlap(at, None, exclude=None)
            project_id = self._ensure_project(con, project)
            entry_id = self._insert(con, project_id, at, None, note, tags)
        return Started(self.entry(entry_id), self.entry(stopped.id) if stopped else None)

    def stop_timer(self, at: datetime, project: str | None = None) -> Entry:
        with self._write() as con:
            current = self.running()
            if current is None:
                raise Conflict("no timer is running")
            if project is not None and current.project.lower() != project.lower():
                raise Conflict(
                    f"the running timer is on {current.project}, not {project}; "
                    "run `freelance stop` to stop it"
                )
            if at < current.start:
                raise InvalidInput(
                    f"{self._show(at)} is before the timer's start {self._show(current.start)}"
                )
            con.execute("UPDATE entries SET end = ? WHERE id = ?", (_epoch(at), current.id))
        return self.entry(current.id)

    def cancel_timer(self) -> Entry:
        with self._write() as con:
            current = self.running()
            if current is None:
                raise Conflict("no timer is running")
            con.execute("DELETE FROM entries WHERE id = ?", (current.id,))
        return current

    def add_entry(
        self,
        project: str,
        start: datetime,
        end: datetime,
        *,
        tags: Sequence[str] = (),
        note: str = "",
    ) -> Entry:
        project = validate_project_name(project)
        tag_list = sorted({validate_tag(tag) for tag in tags})
        if end <= start:
            raise InvalidInput("--to must be after --from")
        with self._write() as con:
            self._refuse_overlap(start, end, exclude=None)
            project_id = self._ensure_project(con, project)
            entry_id = self._insert(con, project_id, start, end, note, tag_list)
        return self.entry(entry_id)

    def edit_entry(
        self,
        entry_id: int,
        *,
        project: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        note: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> Entry:
        with self._write() as con:
            old = self.entry(entry_id)
            new_start = start or old.start
            new_end = end or old.end
            if new_end is not None and new_end <= new_start:
                raise InvalidInput("the entry would end before it starts")
            self._refuse_overlap(new_start, new_end, exclude=entry_id)
            project_id = (
                self._ensure_project(con, validate_project_name(project))
                if project
                else self.project(old.project).id
            )
            con.execute(
                "UPDATE entries SET project_id = ?, start = ?, end = ?, note = ? WHERE id = ?",
                (
                    project_id,
                    _epoch(new_start),
                    _epoch(new_end) if new_end else None,
                    old.note if note is None else note,
                    entry_id,
                ),
            )
            if tags is not None:
                con.execute("DELETE FROM entry_tags WHERE entry_id = ?", (entry_id,))
                self._tag(con, entry_id, sorted({validate_tag(tag) for tag in tags}))
        return self.entry(entry_id)

    def remove_entry(self, entry_id: int) -> Entry:
        with self._write() as con:
            old = self.entry(entry_id)
            con.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
        return old

    # -- internals -------------------------------------------------------------------------

    def _refuse_overlap(self, start: datetime, end: datetime | None, exclude: int | None) -> None:
        """Overlapping entries would count the same minutes twice; refuse them."""
        far = datetime(9999, 1, 1, tzinfo=UTC)
        for other in self.entries_overlapping(start, end or far):
            if other.id == exclude:
                continue
            until = self._show(other.end) if other.end else "now (running)"
            raise Conflict(
                f"overlaps entry #{other.id} ({other.project}, {self._show(other.start)} to "
                f"{until}); edit or remove it first"
            )

    @staticmethod
    def _ensure_project(con: sqlite3.Connection, name: str) -> int:
        row = con.execute(
            "SELECT id FROM projects WHERE name = ? COLLATE NOCASE", (name,)
        ).fetchone()
        if row is not None:
            return int(row[0])
        cursor = con.execute(
            "INSERT INTO projects(name, created_at) VALUES (?, strftime('%s','now'))",
            (validate_project_name(name),),
        )
        return int(cursor.lastrowid or 0)

    def _insert(
        self,
        con: sqlite3.Connection,
        project_id: int,
        start: datetime,
        end: datetime | None,
        note: str,
        tags: Sequence[str],
    ) -> int:
        try:
            cursor = con.execute(
                "INSERT INTO entries(project_id, start, end, note) VALUES (?, ?, ?, ?)",
                (project_id, _epoch(start), _epoch(end) if end else None, note),
            )
        except sqlite3.IntegrityError:
            raise Conflict("another timer is already running") from None
        entry_id = int(cursor.lastrowid or 0)
        self._tag(con, entry_id, tags)
        return entry_id

    @staticmethod
    def _tag(con: sqlite3.Connection, entry_id: int, tags: Sequence[str]) -> None:
        con.executemany(
            "INSERT INTO entry_tags(entry_id, tag) VALUES (?, ?)", [(entry_id, t) for t in tags]
        )

    def _show(self, instant: datetime) -> str:
        return f"{instant.astimezone(self.zone):%Y-%m-%d %H:%M}"
