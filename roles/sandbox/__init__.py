"""Sandbox nodes: bubblewrap and firejail, the runner root filesystems, and the runner command.

Each runner image is a root filesystem tarball (`sandbox_runners`: name + the tarball's path on
the deploying machine), unpacked under /var/lib/stackyard/runners/<name> whenever its content
changes. `stackyard-sandbox-run NAME CMD...` runs CMD inside that root with bubblewrap: no
network, new namespaces, read-only root, a private /tmp, every capability dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.facts.files import FileContents
from pyinfra.operations import apt, files

HERE = Path(__file__).resolve().parent
RUNNERS = "/var/lib/stackyard/runners"
IMAGES = "/var/lib/stackyard/runner-images"


@operation()
def runner_unpacked(runner: str, tarball: str, digest: str) -> Generator[str, None, None]:
    """Unpack the runner's tarball into a fresh root unless that exact tarball is unpacked.

    The uploaded image is checked against `digest` first, so the marker never names content
    that is not what got unpacked.
    """
    marker = f"{RUNNERS}/{runner}.sha256"
    current = host.get_fact(FileContents, path=marker)
    if current and current[0].strip() == digest:
        host.noop(f"runner {runner} {digest[:12]} is unpacked")
        return
    root = f"{RUNNERS}/{runner}"
    yield f"echo '{digest}  {tarball}' | sha256sum --check --quiet"
    yield f"rm -rf {root}.new && mkdir -p {root}.new"
    yield f"tar -xf {tarball} -C {root}.new --no-same-owner"
    yield f"rm -rf {root} && mv {root}.new {root}"
    yield f"echo {digest} > {marker}"


@deploy("sandbox")
def sandbox() -> None:
    apt.packages(
        name="Sandboxing tools",
        packages=["bubblewrap", "firejail"],
        update=True,
        cache_time=3600,
        no_recommends=True,
    )
    for folder in (RUNNERS, IMAGES):
        files.directory(name=f"Folder {folder}", path=folder, mode="755")
    names = []
    for runner in host.data.get("sandbox_runners", []):
        name, source = runner["name"], Path(runner["path"])
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        remote = f"{IMAGES}/{name}.tar"
        files.put(name=f"Runner image {name}", src=str(source), dest=remote, mode="644")
        runner_unpacked(name=f"Unpack runner {name}", runner=name, tarball=remote, digest=digest)
        names.append(name)
    files.template(
        name="The runner command",
        src=str(HERE / "stackyard-sandbox-run.j2"),
        dest="/usr/local/bin/stackyard-sandbox-run",
        mode="755",
        runners_dir=RUNNERS,
        runners=names,
    )
