"""SQLite round trip, and the CLI's refusals and exit codes (fast: no server needed)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.apps.dbbackup.conftest import run_cli

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT COLLATE NOCASE,
    score REAL,
    data BLOB,
    anything,
    born TEXT DEFAULT (datetime('now')),
    doubled INTEGER GENERATED ALWAYS AS (id * 2) STORED,
    CHECK (score IS NULL OR score > -1e308)
);
CREATE INDEX customers_name
    ON customers (name) WHERE name IS NOT NULL;
CREATE TABLE departments (id INTEGER PRIMARY KEY, manager_id INTEGER REFERENCES employees (id));
CREATE TABLE employees (
    id INTEGER PRIMARY KEY,
    department_id INTEGER NOT NULL REFERENCES departments (id),
    mentor_id INTEGER REFERENCES employees (id)
);
CREATE TABLE "odd ""name"" here" (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT, amount REAL);
CREATE VIEW named AS SELECT id, name FROM customers WHERE name IS NOT NULL;
CREATE TRIGGER customers_trim AFTER INSERT ON customers
BEGIN
    UPDATE customers SET name = trim(name) WHERE id = NEW.id;
END;
"""
TRICKY = [
    ("a", "Zoë 😀 ünïcödé", 0.1 + 0.2, b"\x00\xff\n\r", 2**63 - 1),
    ("b", "x\ny\r\n\t\\N", float("inf"), b"", "text"),
    ("c", None, -0.0, None, 1.5),
    ("d", "", 5e-324, bytes(range(256)), b"blob"),
    ("e", "'; DROP TABLE customers; --", -(2**63), b"'", None),
]


def make_source(path: Path, rows: int = 2000) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode = WAL;" + SCHEMA)
    conn.executemany(
        "INSERT INTO customers (email, name, score, data, anything) VALUES (?, ?, ?, ?, ?)", TRICKY
    )
    conn.execute("INSERT INTO departments VALUES (1, 2), (2, 1)")
    conn.execute("INSERT INTO employees VALUES (1, 2, 2), (2, 1, NULL)")
    conn.execute("INSERT INTO \"odd \"\"name\"\" here\" VALUES ('k1', NULL), ('k2', x'01')")
    conn.executemany(
        "INSERT INTO big VALUES (?, ?, ?)", [(i, f"label {i}", i / 7) for i in range(1, rows + 1)]
    )
    conn.commit()
    conn.close()


def table_contents(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    out = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        quoted = '"' + table.replace('"', '""') + '"'
        cols = [r[1] for r in conn.execute(f"PRAGMA table_xinfo({quoted})")]
        typed = ", ".join(f'"{c}", typeof("{c}")' for c in cols)
        out[table] = conn.execute(f"SELECT {typed} FROM {quoted} ORDER BY 1").fetchall()
    conn.close()
    return out


def master(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.db"
    make_source(path)
    return path


def test_sqlite_round_trip_keeps_every_value_type_and_the_schema(source: Path, tmp_path: Path):
    dest, restored = tmp_path / "backup", tmp_path / "restored.db"
    code, out = run_cli(
        "backup", "--engine", "sqlite", "--db", str(source), "--dest", str(dest),
        "--chunk-mb", "0.02", "--compress", "gzip",
    )  # fmt: skip
    assert code == 0, out
    manifest = json.loads((dest / "manifest.json").read_text())
    big = next(t for t in manifest["tables"] if t["name"] == "big")
    assert big["rows"] == 2000 and len(big["chunks"]) > 1
    code, out = run_cli("restore", "--engine", "sqlite", "--src", str(dest), "--db", str(restored))
    assert code == 0, out
    assert table_contents(restored) == table_contents(source)
    assert master(restored) == master(source)


def test_backup_refuses_a_non_empty_destination_without_force(source: Path, tmp_path: Path):
    dest = tmp_path / "backup"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    args = ["backup", "-e", "sqlite", "--db", str(source), "--dest", str(dest)]
    code, out = run_cli(*args)
    assert code == 5 and "not empty" in out and "Traceback" not in out
    code, out = run_cli(*args, "--force")
    assert code == 0, out
    assert (dest / "keep.txt").read_text() == "mine"


def test_restore_refuses_an_existing_sqlite_file(source: Path, tmp_path: Path):
    dest = tmp_path / "backup"
    assert run_cli("backup", "-e", "sqlite", "--db", str(source), "--dest", str(dest))[0] == 0
    code, out = run_cli("restore", "-e", "sqlite", "--src", str(dest), "--db", str(source))
    assert code == 5 and "already exists" in out


@pytest.mark.parametrize("damage", ["tamper", "truncate", "delete", "manifest", "no-manifest"])
def test_restore_and_verify_refuse_a_damaged_backup(source: Path, tmp_path: Path, damage: str):
    dest, restored = tmp_path / "backup", tmp_path / "restored.db"
    assert run_cli("backup", "-e", "sqlite", "--db", str(source), "--dest", str(dest))[0] == 0
    data = sorted((dest / "data").iterdir())[0]
    manifest = dest / "manifest.json"
    if damage == "tamper":
        raw = bytearray(data.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        data.write_bytes(bytes(raw))
    elif damage == "truncate":
        data.write_bytes(data.read_bytes()[:-3])
    elif damage == "delete":
        data.unlink()
    elif damage == "manifest":
        body = json.loads(manifest.read_text())
        body["tables"][0]["rows"] += 1
        manifest.write_text(json.dumps(body))
    else:
        manifest.unlink()
    code, out = run_cli("verify", "--src", str(dest))
    assert code == 4, out
    code, out = run_cli("restore", "-e", "sqlite", "--src", str(dest), "--db", str(restored))
    assert code == 4 and "Traceback" not in out
    assert not restored.exists()
    assert not any(p.name.startswith(".restored.db") for p in tmp_path.iterdir())


def test_verify_accepts_an_intact_backup(source: Path, tmp_path: Path):
    dest = tmp_path / "backup"
    assert run_cli("backup", "-e", "sqlite", "--db", str(source), "--dest", str(dest))[0] == 0
    code, out = run_cli("verify", "--src", str(dest))
    assert code == 0 and out.startswith("ok:")


def test_restore_checks_the_engine_against_the_manifest(source: Path, tmp_path: Path):
    dest = tmp_path / "backup"
    assert run_cli("backup", "-e", "sqlite", "--db", str(source), "--dest", str(dest))[0] == 0
    code, out = run_cli("restore", "-e", "postgres", "--src", str(dest), "--db", "whatever")
    assert code == 4 and "sqlite" in out


def test_table_globs_select_and_exclude(source: Path, tmp_path: Path):
    dest = tmp_path / "backup"
    code, out = run_cli(
        "backup", "-e", "sqlite", "--db", str(source), "--dest", str(dest),
        "--tables", "c*,big,departments", "--exclude", "big",
    )  # fmt: skip
    assert code == 0, out
    names = [t["name"] for t in json.loads((dest / "manifest.json").read_text())["tables"]]
    assert sorted(names) == ["customers", "departments"]
    code, out = run_cli(
        "backup", "-e", "sqlite", "--db", str(source), "--dest", str(tmp_path / "b2"),
        "--tables", "nothing*",
    )  # fmt: skip
    assert code == 2 and "matches no table" in out


def test_bad_input_gets_one_line_and_a_documented_exit_code(tmp_path: Path):
    code, out = run_cli("backup", "-e", "oracle", "--db", "x", "--dest", str(tmp_path / "d"))
    assert code == 2 and "--engine" in out
    code, out = run_cli("backup", "-e", "sqlite", "--db", str(tmp_path / "missing.db"),
                        "--dest", str(tmp_path / "d"))  # fmt: skip
    assert code == 3 and "no such file" in out
    not_a_db = tmp_path / "text.db"
    not_a_db.write_text("hello, not sqlite " * 100)
    code, out = run_cli("backup", "-e", "sqlite", "--db", str(not_a_db),
                        "--dest", str(tmp_path / "d2"))  # fmt: skip
    assert code == 3 and "Traceback" not in out
