"""PostgreSQL: backup -> restore into a new database gives the same rows and the same DDL."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.apps.dbbackup.conftest import HERE, PG, pg_connect, run_cli

BIG_ROWS = 50_000


def load_tricky_schema(db: str, big_rows: int = BIG_ROWS) -> None:
    with pg_connect(db) as conn:
        conn.execute((HERE / "pg_schema.sql").read_text())
        conn.execute((HERE / "pg_data.sql").read_text())
        conn.execute(
            "INSERT INTO public.big SELECT g, "
            "CASE WHEN g %% 5 = 0 THEN NULL ELSE 10 + 3 * (g %% 3) END, g * 1.25, "
            "'label ' || g, '2024-01-01'::timestamptz - g * interval '1 minute' "
            "FROM generate_series(1, %s) g",
            (big_rows,),
        )
        conn.execute("ANALYZE")


def table_rows(db: str) -> dict[str, bytes]:
    """Every table's rows as COPY text, sorted: equal text means equal values."""
    out = {}
    with pg_connect(db) as conn:
        tables = conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            chunks = []
            with conn.cursor().copy(f"COPY (SELECT * FROM {table} ORDER BY 1) TO STDOUT") as copy:
                chunks.extend(bytes(block) for block in copy)
            out[table] = b"".join(chunks)
    return out


def schema_dump(db: str) -> str:
    """pg_dump's schema-only output with the per-run noise removed."""
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed to compare DDL (apt-get install postgresql-client)")
    text = subprocess.run(
        ["pg_dump", "-h", PG["host"], "-U", "postgres", "--schema-only", db],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return "\n".join(
        line for line in text.splitlines()
        if line.strip() and not line.startswith(("--", "\\restrict", "\\unrestrict"))
    )  # fmt: skip


def backup(db: str, dest: Path, *extra: str) -> dict:
    code, out = run_cli("backup", "-e", "postgres", "--db", db, "--dest", str(dest), *extra)
    assert code == 0, out
    return json.loads((dest / "manifest.json").read_text())


@pytest.mark.slow
def test_round_trip_gives_identical_rows_ddl_and_sequences(pg_database, tmp_path: Path):
    source, target = pg_database(), pg_database(create=False)
    load_tricky_schema(source)
    manifest = backup(source, tmp_path / "b", "--jobs", "2", "--chunk-mb", "1")
    big = next(t for t in manifest["tables"] if t["name"] == "public.big")
    assert big["rows"] == BIG_ROWS and len(big["chunks"]) > 1
    assert manifest["server_version"].startswith("PostgreSQL")
    code, out = run_cli(
        "restore", "-e", "postgres", "--src", str(tmp_path / "b"), "--db", target,
        "--create-db", "--jobs", "2",
    )  # fmt: skip
    assert code == 0, out
    assert table_rows(target) == table_rows(source)
    assert schema_dump(target) == schema_dump(source)
    with pg_connect(target) as conn:
        assert conn.execute("SELECT nextval('public.invoice_number')").fetchone() == (5007,)
        conn.execute("INSERT INTO public.customers (email) VALUES ('new@example.com')")
        assert conn.execute(
            "SELECT id FROM public.customers WHERE email = 'new@example.com'"
        ).fetchone() == (19,)


def test_cycle_keys_are_deferred_and_restored(pg_database, tmp_path: Path):
    source, target = pg_database(), pg_database(create=False)
    load_tricky_schema(source, big_rows=10)
    manifest = backup(source, tmp_path / "b")
    order = [t["name"] for t in manifest["tables"]]
    assert order.index("public.customers") < order.index("public.orders")
    employees = (tmp_path / "b" / next(
        t["schema_file"] for t in manifest["tables"] if t["name"] == "extra.employees"
    )).read_text()  # fmt: skip
    deferred = employees.split("stackyard:deferred-foreign-keys")[1]
    assert "employees_mentor_id_fkey" in deferred and "employees_department_id_fkey" in deferred
    assert run_cli("restore", "-e", "postgres", "--src", str(tmp_path / "b"), "--db", target,
                   "--create-db")[0] == 0  # fmt: skip
    with pg_connect(target) as conn:
        keys = conn.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' ORDER BY 1"
        ).fetchall()
    assert [k for (k,) in keys] == [
        "big_customer_id_fkey", "departments_manager_fk", "employees_department_id_fkey",
        "employees_mentor_id_fkey", "orders_customer_id_fkey",
    ]  # fmt: skip


def test_backup_taken_while_another_process_writes_is_consistent(pg_database, tmp_path: Path):
    source, target = pg_database(), pg_database(create=False)
    with pg_connect(source) as conn:
        conn.execute(
            "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);"
            "CREATE TABLE ledger_a (id bigserial PRIMARY KEY, pad text);"
            "CREATE TABLE ledger_b (id bigserial PRIMARY KEY, pad text);"
            "INSERT INTO accounts SELECT g, 1000 FROM generate_series(1, 20000) g;"
            "INSERT INTO ledger_a (pad) SELECT repeat('a', 200) FROM generate_series(1, 20000);"
            "INSERT INTO ledger_b (pad) SELECT repeat('b', 200) FROM generate_series(1, 20000);"
            "ANALYZE"
        )
    stop = threading.Event()
    commits: list[float] = []

    def write() -> None:
        with pg_connect(source) as conn:
            step = 0
            while not stop.is_set():
                step += 1
                with conn.transaction():
                    conn.execute("INSERT INTO ledger_a (pad) VALUES ('x')")
                    conn.execute("UPDATE accounts SET balance = balance - 7 WHERE id = %s",
                                 (step % 20000 + 1,))  # fmt: skip
                    conn.execute("UPDATE accounts SET balance = balance + 7 WHERE id = %s",
                                 ((step * 7919) % 20000 + 1,))  # fmt: skip
                    conn.execute("INSERT INTO ledger_b (pad) VALUES ('y')")
                commits.append(time.monotonic())

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(commits) < 20:
            time.sleep(0.01)
        began = time.monotonic()
        backup(source, tmp_path / "b", "--jobs", "2", "--chunk-mb", "0.3", "--compress", "none")
        ended = time.monotonic()
    finally:
        stop.set()
        writer.join()
    assert sum(1 for t in commits if began <= t <= ended) > 5, "the writer was not writing"
    assert run_cli("restore", "-e", "postgres", "--src", str(tmp_path / "b"), "--db", target,
                   "--create-db")[0] == 0  # fmt: skip
    with pg_connect(target) as conn:
        a, b, total = conn.execute(
            "SELECT (SELECT count(*) FROM ledger_a), (SELECT count(*) FROM ledger_b), "
            "(SELECT sum(balance) FROM accounts)"
        ).fetchone()
    assert a == b and a > 20000
    assert total == 20000 * 1000


def test_restore_refuses_an_existing_database_and_cleans_up_a_failed_one(
    pg_database, tmp_path: Path
):
    source, fresh = pg_database(), pg_database(create=False)
    load_tricky_schema(source, big_rows=10)
    backup(source, tmp_path / "b")
    code, out = run_cli("restore", "-e", "postgres", "--src", str(tmp_path / "b"),
                        "--db", source, "--create-db")  # fmt: skip
    assert code == 5 and "already exists" in out
    code, out = run_cli("restore", "-e", "postgres", "--src", str(tmp_path / "b"), "--db", source)
    assert code == 5 and "already has tables" in out
    data = next((tmp_path / "b" / "data").iterdir())
    data.write_bytes(data.read_bytes() + b"x")
    code, out = run_cli("restore", "-e", "postgres", "--src", str(tmp_path / "b"), "--db", fresh,
                        "--create-db")  # fmt: skip
    assert code == 4
    with pg_connect("postgres") as conn:
        assert (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (fresh,)).fetchone()
            is None
        )


def test_unreachable_server_and_missing_database_exit_3(pg_database, tmp_path: Path):
    code, out = run_cli("backup", "-e", "postgres", "--port", "1", "--db", "x",
                        "--dest", str(tmp_path / "b"))  # fmt: skip
    assert code == 3 and "cannot connect" in out and "Traceback" not in out
    missing = pg_database(create=False)
    code, out = run_cli("backup", "-e", "postgres", "--db", missing, "--dest", str(tmp_path / "c"))
    assert code == 3 and "does not exist" in out
