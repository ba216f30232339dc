"""Fresh databases on the machine's real PostgreSQL and MariaDB, dropped after each test.

Where a server is unreachable its tests are skipped with the reason, except under CI=true,
where they fail: the backup's behaviour depends on the real servers.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pymysql
import pytest
from typer.testing import CliRunner

from apps.dbbackup.cli import cli

HERE = Path(__file__).parent
PG = {"host": os.environ.get("STACKYARD_TEST_PG_HOST", "127.0.0.1"), "port": 5432}
MY = {"host": os.environ.get("STACKYARD_TEST_MYSQL_HOST", "127.0.0.1"), "port": 3306}


def _require(host: str, port: int, what: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError:
        message = f"{what} at {host}:{port} is not reachable"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: the real server is required)")
        pytest.skip(message)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def run_cli(*args: str) -> tuple[int, str]:
    """Run `stackyard dbbackup ...` in-process; the exit code and everything printed."""
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def pg_connect(db: str) -> psycopg.Connection:
    return psycopg.connect(
        host=PG["host"], port=PG["port"], user="postgres", dbname=db, autocommit=True
    )


@pytest.fixture
def pg_database() -> Iterator[Callable[[], str]]:
    """A factory of new, empty PostgreSQL databases; all of them dropped at the end."""
    _require(PG["host"], PG["port"], "PostgreSQL")
    made: list[str] = []

    def make(create: bool = True) -> str:
        name = unique_name("dbbackup_test")
        made.append(name)
        if create:
            with pg_connect("postgres") as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        return name

    yield make
    with pg_connect("postgres") as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def my_connect(db: str | None = None) -> pymysql.Connection:
    conn = pymysql.connect(
        host=MY["host"], port=MY["port"], user="root", database=db, charset="utf8mb4",
        autocommit=True,
    )  # fmt: skip
    with conn.cursor() as cursor:
        cursor.execute("SET time_zone = '+00:00'")
    return conn


@pytest.fixture
def my_database() -> Iterator[Callable[..., str]]:
    """A factory of new, empty MariaDB databases; all of them dropped at the end."""
    _require(MY["host"], MY["port"], "MariaDB/MySQL")
    made: list[str] = []

    def make(create: bool = True) -> str:
        name = unique_name("dbbackup_test")
        made.append(name)
        if create:
            with my_connect() as conn, conn.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE `{name}`")
        return name

    yield make
    with my_connect() as conn, conn.cursor() as cursor:
        for name in made:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
