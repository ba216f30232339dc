"""App nodes: the release and `stackyard serve --workers N` under systemd."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files

from roles import units
from roles.release import ENV_FILE, VENV, Release, release

HERE = Path(__file__).resolve().parent
UNIT = "stackyard-app.service"
UNIT_PATH = f"/etc/systemd/system/{UNIT}"


def serve_command(data: Any) -> str:
    """The ExecStart line: every app (or `app_only`), on all interfaces, N server workers.

    `data` is the host's data (pyinfra HostData or a plain dict).
    """
    get = data.get
    parts = [
        f"{VENV}/bin/stackyard",
        "serve",
        "--host 0.0.0.0",
        f"--port {int(get('app_port', 8000))}",
        f"--workers {int(get('app_workers', 1))}",
        f"--server {get('app_server', 'granian')}",
        *(f"--app {name}" for name in get("app_only", [])),
    ]
    return " ".join(parts)


def runs_migrations() -> bool:
    """Only the first app node migrates, so two nodes never race on Alembic's version table."""
    app_hosts = host.data.get("fleet", {}).get("app", [])
    return bool(app_hosts) and app_hosts[0]["name"] == host.data.get("node_name")


@deploy("app")
def app() -> None:
    installed = cast(Release, release())
    unit = files.template(
        name=f"Unit {UNIT}",
        src=str(HERE / "stackyard-app.service.j2"),
        dest=UNIT_PATH,
        mode="644",
        exec_start=serve_command(host.data),
        migrate=f"{VENV}/bin/stackyard migrate" if runs_migrations() else "",
        env_file=ENV_FILE,
    )
    units.daemon_reload_if([unit])
    units.running(UNIT, unit_path=UNIT_PATH, restart_on=[unit, *installed.changes])
