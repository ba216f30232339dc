"""MariaDB/MySQL: backup -> restore into a new database gives the same rows and the same DDL."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from apps.dbbackup.mysql import statements
from tests.apps.dbbackup.conftest import HERE, my_connect, run_cli

BIG_ROWS = 50_000


def run_script(db: str, path: Path) -> None:
    with my_connect(db) as conn, conn.cursor() as cursor:
        for statement in statements(path.read_text()):
            cursor.execute(statement)


def load_tricky_schema(db: str, big_rows: int = BIG_ROWS) -> None:
    run_script(db, HERE / "mysql_schema.sql")
    run_script(db, HERE / "mysql_data.sql")
    with my_connect(db) as conn, conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO big SELECT seq, IF(seq % 5 = 0, NULL, 1 + seq % 3), seq * 1.25, "
            "CONCAT('label ', seq), '2024-01-01' - INTERVAL seq MINUTE "
            f"FROM seq_1_to_{big_rows}"
        )
        cursor.execute("ANALYZE TABLE big")
        cursor.fetchall()


def tables_of(db: str) -> list[str]:
    with my_connect(db) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "ORDER BY TABLE_NAME",
            (db,),
        )
        return [name for (name,) in cursor.fetchall()]


def contents(db: str) -> dict[str, list[tuple]]:
    out = {}
    with my_connect(db) as conn, conn.cursor() as cursor:
        for table in tables_of(db):
            cursor.execute(f"SELECT * FROM `{table}` ORDER BY 1")
            out[table] = list(cursor.fetchall())
    return out


def ddl(db: str) -> dict[str, str]:
    """SHOW CREATE for tables, views, routines and triggers, keyed by name."""
    out = {}
    with my_connect(db) as conn, conn.cursor() as cursor:
        for table in tables_of(db):
            cursor.execute(f"SHOW CREATE TABLE `{table}`")
            out[table] = cursor.fetchone()[1]
        for kind, query in [
            ("FUNCTION", "SHOW FUNCTION STATUS WHERE Db = %s"),
            ("PROCEDURE", "SHOW PROCEDURE STATUS WHERE Db = %s"),
        ]:
            cursor.execute(query, (db,))
            for row in cursor.fetchall():
                cursor.execute(f"SHOW CREATE {kind} `{row[1]}`")
                out[f"{kind} {row[1]}"] = cursor.fetchone()[2]
        cursor.execute("SHOW TRIGGERS")
        for row in cursor.fetchall():
            out[f"TRIGGER {row[0]}"] = row[3]
    return out


def backup(db: str, dest: Path, *extra: str) -> dict:
    code, out = run_cli("backup", "-e", "mysql", "--db", db, "--dest", str(dest), *extra)
    assert code == 0, out
    return json.loads((dest / "manifest.json").read_text())


def restore(src: Path, db: str, *extra: str) -> tuple[int, str]:
    return run_cli("restore", "-e", "mysql", "--src", str(src), "--db", db, *extra)


@pytest.mark.slow
def test_round_trip_gives_identical_rows_and_ddl(my_database, tmp_path: Path):
    source, target = my_database(), my_database(create=False)
    load_tricky_schema(source)
    manifest = backup(source, tmp_path / "b", "--jobs", "2", "--chunk-mb", "0.5")
    big = next(t for t in manifest["tables"] if t["name"] == "big")
    assert big["rows"] == BIG_ROWS and len(big["chunks"]) > 1
    assert "FLUSH TABLES WITH READ LOCK" in manifest["consistency"]
    code, out = restore(tmp_path / "b", target, "--create-db", "--jobs", "2")
    assert code == 0, out
    assert contents(target) == contents(source)
    assert ddl(target) == ddl(source)
    with my_connect(target) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT double_it(21)")
        assert cursor.fetchone() == (42,)
        cursor.execute("SELECT id, orders FROM big_customers ORDER BY id")
        assert cursor.fetchall() == ((1, 6), (2, 7), (3, 7))


def test_cycle_keys_are_added_after_data(my_database, tmp_path: Path):
    source, target = my_database(), my_database(create=False)
    load_tricky_schema(source, big_rows=10)
    manifest = backup(source, tmp_path / "b")
    order = [t["name"] for t in manifest["tables"]]
    assert order.index("customers") < order.index("orders")
    assert order.index("customers") < order.index("big")
    files = {t["name"]: (tmp_path / "b" / t["schema_file"]).read_text() for t in manifest["tables"]}
    create, deferred = files["employees"].split("stackyard:deferred-foreign-keys")
    assert "CONSTRAINT `employees_mentor`" in deferred
    assert "CONSTRAINT `employees_mentor`" not in create
    assert restore(tmp_path / "b", target, "--create-db")[0] == 0
    assert ddl(target)["departments"] == ddl(source)["departments"]
    assert ddl(target)["employees"] == ddl(source)["employees"]


def test_backup_taken_while_another_process_writes_is_consistent(my_database, tmp_path: Path):
    source, target = my_database(), my_database(create=False)
    with my_connect(source) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)")
        cursor.execute("CREATE TABLE ledger_a (id int AUTO_INCREMENT PRIMARY KEY, pad text)")
        cursor.execute("CREATE TABLE ledger_b (id int AUTO_INCREMENT PRIMARY KEY, pad text)")
        cursor.execute("INSERT INTO accounts SELECT seq, 1000 FROM seq_1_to_20000")
        cursor.execute("INSERT INTO ledger_a (pad) SELECT REPEAT('a', 200) FROM seq_1_to_20000")
        cursor.execute("INSERT INTO ledger_b (pad) SELECT REPEAT('b', 200) FROM seq_1_to_20000")
        cursor.execute("ANALYZE TABLE accounts, ledger_a, ledger_b")
    stop = threading.Event()
    commits: list[float] = []

    def write() -> None:
        with my_connect(source) as conn, conn.cursor() as cursor:
            step = 0
            while not stop.is_set():
                step += 1
                conn.begin()
                cursor.execute("INSERT INTO ledger_a (pad) VALUES ('x')")
                cursor.execute("UPDATE accounts SET balance = balance - 7 WHERE id = %s",
                               (step % 20000 + 1,))  # fmt: skip
                cursor.execute("UPDATE accounts SET balance = balance + 7 WHERE id = %s",
                               ((step * 7919) % 20000 + 1,))  # fmt: skip
                cursor.execute("INSERT INTO ledger_b (pad) VALUES ('y')")
                conn.commit()
                commits.append(time.monotonic())

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(commits) < 20:
            time.sleep(0.01)
        began = time.monotonic()
        backup(source, tmp_path / "b", "--jobs", "2", "--chunk-mb", "0.3")
        ended = time.monotonic()
    finally:
        stop.set()
        writer.join()
    assert sum(1 for t in commits if began <= t <= ended) > 5, "the writer was not writing"
    assert restore(tmp_path / "b", target, "--create-db")[0] == 0
    with my_connect(target) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM ledger_a), (SELECT count(*) FROM ledger_b), "
            "(SELECT sum(balance) FROM accounts)"
        )
        a, b, total = cursor.fetchone()
    assert a == b and a > 20000
    assert total == 20000 * 1000


def test_restore_refuses_existing_targets_and_drops_what_it_created(my_database, tmp_path: Path):
    source, fresh = my_database(), my_database(create=False)
    load_tricky_schema(source, big_rows=10)
    backup(source, tmp_path / "b")
    code, out = restore(tmp_path / "b", source, "--create-db")
    assert code == 5 and "already exists" in out
    code, out = restore(tmp_path / "b", source)
    assert code == 5 and "already has tables" in out
    orders = next(p for p in (tmp_path / "b" / "data").iterdir() if "orders" in p.name)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    # A manifest that lies about a file is refused before anything is created.
    orders.unlink()
    code, out = restore(tmp_path / "b", fresh, "--create-db")
    assert code == 4 and "missing" in out
    assert fresh not in tables_of_server()
    assert manifest["engine"] == "mysql"


def tables_of_server() -> list[str]:
    with my_connect() as conn, conn.cursor() as cursor:
        cursor.execute("SHOW DATABASES")
        return [name for (name,) in cursor.fetchall()]


def test_wrong_password_exits_3(my_database, tmp_path: Path):
    code, out = run_cli("backup", "-e", "mysql", "--user", "nobody_here", "--password", "nope",
                        "--db", "x", "--dest", str(tmp_path / "b"))  # fmt: skip
    assert code == 3 and "Access denied" in out and "Traceback" not in out
