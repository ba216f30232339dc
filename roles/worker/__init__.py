"""Worker nodes: the release, a Celery worker and Celery beat under systemd.

Beat runs on the first worker node only: two schedulers would enqueue every periodic task twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files

from roles import units
from roles.release import ENV_FILE, VENV, Release, release

HERE = Path(__file__).resolve().parent
WORKER = "stackyard-worker.service"
BEAT = "stackyard-beat.service"


def runs_beat() -> bool:
    workers = host.data.get("fleet", {}).get("worker", [])
    return bool(workers) and workers[0]["name"] == host.data.get("node_name")


@deploy("worker")
def worker() -> None:
    installed = cast(Release, release())
    worker_unit = files.template(
        name=f"Unit {WORKER}",
        src=str(HERE / "stackyard-worker.service.j2"),
        dest=f"/etc/systemd/system/{WORKER}",
        mode="644",
        exec_start=(
            f"{VENV}/bin/stackyard worker --concurrency "
            f"{int(host.data.get('worker_concurrency', 2))}"
        ),
        env_file=ENV_FILE,
    )
    beat_unit = files.template(
        name=f"Unit {BEAT}",
        src=str(HERE / "stackyard-beat.service.j2"),
        dest=f"/etc/systemd/system/{BEAT}",
        mode="644",
        exec_start=f"{VENV}/bin/stackyard beat",
        env_file=ENV_FILE,
    )
    units.daemon_reload_if([worker_unit, beat_unit])
    units.running(
        WORKER,
        unit_path=f"/etc/systemd/system/{WORKER}",
        restart_on=[worker_unit, *installed.changes],
    )
    if runs_beat():
        units.running(
            BEAT,
            unit_path=f"/etc/systemd/system/{BEAT}",
            restart_on=[beat_unit, *installed.changes],
        )
    else:
        units.stopped(BEAT, unit_path=f"/etc/systemd/system/{BEAT}")
