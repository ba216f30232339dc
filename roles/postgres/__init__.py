"""PostgreSQL on a node, for environments without RDS: the server, access for the app and
worker nodes only (scram-sha-256), and the application's role and database.

The role and database are created through the running server: on a booted host the packaged
cluster, otherwise only a server started out of band (`postgres_admin_socket`, e.g. an image
build's temporary server or the chroot tests). `postgres_password` comes from the deployer
(`STACKYARD_POSTGRES_PASSWORD`), never from a file. psql runs as the `postgres` user through
`su`, which every Debian root has (sudo is not in a minimal one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Generator
from pathlib import Path
from typing import Any

from pyinfra import host
from pyinfra.api import FactBase, QuoteString, StringCommand, deploy, operation
from pyinfra.api.command import HiddenValue
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.postgres import make_execute_psql_command, make_psql_command
from pyinfra.operations import apt, files, postgres

from roles import units

HERE = Path(__file__).resolve().parent
SCRAM = re.compile(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)")


def clients(data: Any) -> list[str]:
    """Addresses allowed to connect: the app and worker nodes, nothing else."""
    fleet = data.get("fleet", {})
    return sorted({h["private_ip"] for kind in ("app", "worker") for h in fleet.get(kind, [])})


def admin_connection(data: Any) -> dict[str, Any]:
    """psql's socket folder and port: the packaged cluster's defaults, or the out-of-band
    server of `postgres_admin_socket` / `postgres_admin_port`."""
    socket = str(data.get("postgres_admin_socket", "") or "")
    if not socket:
        return {}
    return {"psql_host": socket, "psql_port": int(data.get("postgres_admin_port", 5432))}


def scram_matches(verifier: str, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier (pg_authid.rolpassword) is this password's."""
    match = SCRAM.fullmatch(verifier.strip())
    if not match:
        return False
    iterations, salt, stored_key = int(match[1]), base64.b64decode(match[2]), match[3]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return hmac.compare_digest(
        base64.b64encode(hashlib.sha256(client_key).digest()).decode(), stored_key
    )


class RoleVerifier(FactBase):
    """The stored password verifier of a role: None if the role does not exist, "" if it has
    no password."""

    def requires_command(self, *args: Any, **kwargs: Any) -> str:
        return "psql"

    def command(
        self, role: str, psql_host: str | None = None, psql_port: int | None = None
    ) -> StringCommand:
        query = (
            f"SELECT 'role:' || coalesce(rolpassword, '') FROM pg_authid WHERE rolname = '{role}'"
        )
        return StringCommand(
            make_psql_command(host=psql_host, port=psql_port), "-Atc", QuoteString(query)
        )

    def process(self, output: list[str]) -> str | None:
        lines = [line for line in output if line.startswith("role:")]
        return lines[0].removeprefix("role:") if lines else None


@operation()
def login_role(
    role: str, password: str, psql_host: str | None = None, psql_port: int | None = None
) -> Generator[StringCommand, None, None]:
    """Create the login role, or set its password, unless it already has exactly this one.

    pyinfra's `postgres.role` alters the password on every run; comparing the stored SCRAM
    verifier keeps a second deploy free of changes.
    """
    verifier = host.get_fact(RoleVerifier, role=role, psql_host=psql_host, psql_port=psql_port)
    if verifier is not None and scram_matches(verifier, password):
        host.noop(f"postgresql role {role} exists with this password")
        return
    verb = "CREATE" if verifier is None else "ALTER"
    literal = password.replace("'", "''")
    secret = StringCommand("'", HiddenValue(literal), "'", _separator="")
    sql = StringCommand(f'{verb} ROLE "{role}" LOGIN PASSWORD', secret)
    yield make_execute_psql_command(sql, host=psql_host, port=psql_port)


@deploy("postgres")
def postgres_server() -> None:
    version = str(host.data.get("postgres_version", "15"))
    cluster = f"/etc/postgresql/{version}/main"
    apt.packages(
        name="PostgreSQL",
        packages=[f"postgresql-{version}"],
        update=True,
        cache_time=3600,
        no_recommends=True,
    )
    settings = files.template(
        name="PostgreSQL settings",
        src=str(HERE / "stackyard.conf.j2"),
        dest=f"{cluster}/conf.d/stackyard.conf",
        user="postgres",
        group="postgres",
        mode="644",
        max_connections=int(host.data.get("postgres_max_connections", 200)),
    )
    access = files.template(
        name="Client access: app and worker nodes only",
        src=str(HERE / "pg_hba.conf.j2"),
        dest=f"{cluster}/pg_hba.conf",
        user="postgres",
        group="postgres",
        mode="640",
        clients=clients(host.data),
        database=host.data.get("postgres_database"),
        role=host.data.get("postgres_user"),
    )
    units.running(
        "postgresql.service",
        unit_path="/lib/systemd/system/postgresql.service",
        restart_on=[settings, access],
    )
    connection = admin_connection(host.data)
    if not host.data.get("systemd_running", True) and not connection:
        return
    password = host.data.get("postgres_password")
    if not password:
        raise DeployError("postgres: set STACKYARD_POSTGRES_PASSWORD for the application role")
    login_role(
        name="Application role",
        role=host.data.get("postgres_user"),
        password=password,
        _su_user="postgres",
        **connection,
    )
    postgres.database(
        name="Application database",
        database=host.data.get("postgres_database"),
        owner=host.data.get("postgres_user"),
        _su_user="postgres",
        **connection,
    )
