"""PostgreSQL on a node, for environments without RDS: the server, access for the app and
worker nodes only (scram-sha-256), and the application's role and database.

The role and database are created through the running server, so only on a booted host;
`postgres_password` comes from the deployer (`STACKYARD_POSTGRES_PASSWORD`), never from a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import apt, files, postgres

from roles import units

HERE = Path(__file__).resolve().parent


def clients(data: Any) -> list[str]:
    """Addresses allowed to connect: the app and worker nodes, nothing else."""
    fleet = data.get("fleet", {})
    return sorted({h["private_ip"] for kind in ("app", "worker") for h in fleet.get(kind, [])})


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
    if not host.data.get("systemd_running", True):
        return
    password = host.data.get("postgres_password")
    if not password:
        raise DeployError("postgres: set STACKYARD_POSTGRES_PASSWORD for the application role")
    postgres.role(
        name="Application role",
        role=host.data.get("postgres_user"),
        password=password,
        login=True,
        _sudo=True,
        _sudo_user="postgres",
    )
    postgres.database(
        name="Application database",
        database=host.data.get("postgres_database"),
        owner=host.data.get("postgres_user"),
        _sudo=True,
        _sudo_user="postgres",
    )
