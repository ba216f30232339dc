"""The Stackyard release every app and worker node runs: a venv, the package, the env file.

The release is a wheel built from the checkout (`stackyard deploy` sets `stackyard_wheel`) or,
without one, `stackyard==<stackyard_version>` from the package index. The wheel is installed
again whenever its content changes, even under the same version number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.api.operation import OperationMeta
from pyinfra.facts.files import FileContents
from pyinfra.operations import apt, files, pip

from roles.base import service_user

HERE = Path(__file__).resolve().parent
ROOT = "/opt/stackyard"
VENV = f"{ROOT}/venv"
RELEASES = f"{ROOT}/releases"
ENV_FILE = "/etc/stackyard/app.env"
DATA_DIR = "/var/lib/stackyard"
MARKER = f"{VENV}/stackyard-release.sha256"


@dataclass(frozen=True)
class Release:
    """What changed in this run, so the role's units restart only when they must."""

    changes: tuple[OperationMeta, ...]


def _index_args() -> str:
    index = host.data.get("pip_index_url", "")
    return f"--index-url {index}" if index else ""


@operation()
def wheel_installed(wheel: str, digest: str, index_args: str = "") -> Generator[str, None, None]:
    """Install the uploaded wheel into the venv unless the marker says this exact build is in."""
    current = host.get_fact(FileContents, path=MARKER)
    if current and current[0].strip() == digest:
        host.noop(f"release {digest[:12]} is installed")
        return
    yield f"{VENV}/bin/pip install --quiet {index_args} {wheel}".replace("  ", " ")
    yield f"{VENV}/bin/pip install --quiet --no-deps --force-reinstall {wheel}"
    yield f"echo {digest} > {MARKER}"


def env_lines(env: dict[str, str]) -> list[str]:
    """systemd EnvironmentFile lines; values are quoted so spaces and '#' survive."""
    lines = []
    for key in sorted(env):
        value = str(env[key]).replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{key}="{value}"')
    return lines


@deploy("stackyard release")
def release() -> Release:
    """Venv + package + env file; returns what changed for the units that run them."""
    apt.packages(
        name="Python for the venv",
        packages=["python3", "python3-venv"],
        update=True,
        cache_time=3600,
        no_recommends=True,
    )
    service_user()
    files.directory(name="Release folder", path=RELEASES, mode="755")
    files.directory(
        name="Data folder", path=DATA_DIR, user="stackyard", group="stackyard", mode="750"
    )
    files.directory(name="Config folder", path="/etc/stackyard", mode="755")
    pip.virtualenv(name="Stackyard venv", path=VENV, python="python3", venv=True)
    wheel = host.data.get("stackyard_wheel", "")
    changes: list[OperationMeta] = []
    if wheel:
        remote = f"{RELEASES}/{Path(wheel).name}"
        digest = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
        files.put(name="Upload the release wheel", src=wheel, dest=remote, mode="644")
        changes.append(
            wheel_installed(
                name=f"Install {Path(wheel).name}",
                wheel=remote,
                digest=digest,
                index_args=_index_args(),
            )
        )
    else:
        changes.append(
            pip.packages(
                name="Install the Stackyard release from the index",
                packages=[f"stackyard=={host.data.get('stackyard_version')}"],
                virtualenv=VENV,
                extra_install_args=_index_args() or None,
            )
        )
    env = {"STACKYARD_DATA_DIR": DATA_DIR, **host.data.get("app_env", {})}
    changes.append(
        files.template(
            name="Environment file of the Stackyard processes",
            src=str(HERE / "app.env.j2"),
            dest=ENV_FILE,
            user="root",
            group="stackyard",
            mode="640",
            lines=env_lines(env),
        )
    )
    return Release(tuple(changes))
