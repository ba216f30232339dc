"""Fixtures for the roles: saved stack outputs, a fake-connector run that keeps every uploaded
file, and (slow tests) a throwaway Debian root per test from the cached debootstrap tarball."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from roles.inventories import Node, build_inventory, plan_nodes, read_outputs
from tests.roles import rootfs

OUTPUTS = Path(__file__).resolve().parent / "outputs"
# What a fresh Debian host answers to the facts the operations need before acting.
FRESH_DEBIAN = {"uname -s": "Linux", "uname -m": "x86_64", "command -v": "/usr/bin/found"}


@dataclass
class FakeRun:
    """Commands run and files uploaded per host by one fake-connector run."""

    nodes: list[Node]
    commands: dict[str, list[str]] = field(default_factory=dict)
    uploads: dict[str, dict[str, str]] = field(default_factory=dict)
    changed: dict[str, list[str]] = field(default_factory=dict)

    def file(self, host: str, path: str) -> str:
        return self.uploads[host][path]

    def ran(self, host: str, fragment: str) -> bool:
        return any(fragment in command for command in self.commands[host])


def nodes_of(env: str, **overrides: Any) -> list[Node]:
    return plan_nodes(read_outputs(env, OUTPUTS / f"{env}.json"), env, overrides=overrides)


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch):
    """Run the roles for `env` on @fake hosts (zero delay) and return what they did."""
    from pyinfra.connectors.fake import FakeConnector

    from roles.apply import apply_roles

    uploads: dict[str, dict[str, str]] = {}

    def put_file(self: Any, filename_or_io: Any, remote_filename: str, *args: Any, **kw: Any):
        if isinstance(filename_or_io, str | Path):
            content = Path(filename_or_io).read_bytes()
        else:
            filename_or_io.seek(0)
            content = filename_or_io.read()
        text = content.decode() if isinstance(content, bytes) else content
        uploads.setdefault(self.host.name.removeprefix("@fake/"), {})[remote_filename] = text
        return True

    monkeypatch.setattr(FakeConnector, "put_file", put_file)

    def run(env: str, *, role: str | None = None, responses: dict | None = None, **data: Any):
        nodes = nodes_of(env, **data)
        override = {
            "fake_delay": 0,
            "fake_delay_jitter": 0,
            "fake_responses": {**FRESH_DEBIAN, **(responses or {})},
        }
        inventory = build_inventory(
            nodes, connector="@fake", only_role=role, override_data=override
        )
        reports = apply_roles(inventory)
        failed = [report.name for report in reports if report.failed]
        assert not failed, f"operations failed on {failed}"
        result = FakeRun(nodes)
        for host in inventory:
            name = host.name.removeprefix("@fake/")
            result.commands[name] = list(host.connector.executed_commands)
            result.uploads.setdefault(name, uploads.get(name, {}))
        for report in reports:
            result.changed[report.name.removeprefix("@fake/")] = report.changed
        return result

    return run


# ---- slow: the real thing in a throwaway Debian root ------------------------------------


@pytest.fixture(scope="session")
def debian_tarball() -> Path:
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        reason = "chroot role tests need root and debootstrap (make system-deps)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        return rootfs.ensure_tarball()
    except rootfs.MirrorUnreachable as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no Debian mirror reachable, chroot role tests skipped: {exc}")


@pytest.fixture
def debian_root(debian_tarball: Path, tmp_path: Path) -> Iterator[Path]:
    with rootfs.throwaway_root(debian_tarball, tmp_path) as root:
        yield root


@pytest.fixture
def apply_in_root(debian_root: Path):
    """Apply roles to one node of `env` inside the throwaway root through @chroot."""
    from roles.apply import apply_roles

    def apply(env: str, node_name: str, roles: list[str], **data: Any):
        nodes = [n for n in nodes_of(env, systemd_running=False, **data) if n.name == node_name]
        assert nodes, node_name
        node = nodes[0]
        node.data["roles"] = roles
        inventory = build_inventory([node], names={node.name: f"@chroot/{debian_root}"})
        reports = apply_roles(inventory)
        assert len(reports) == 1
        return reports[0]

    return apply


def read(root: Path, path: str) -> str:
    return (root / path.lstrip("/")).read_text()


def chroot(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["chroot", str(root), *command], capture_output=True, text=True)


def enter(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """Like `chroot`, but through a new mount namespace whose root is `root` (the host's
    bubblewrap, pivot_root): the kernel refuses new user namespaces to a chrooted process, so
    a bwrap inside the root needs this to make its own. Falls back to chroot without bwrap."""
    if shutil.which("bwrap") is None:
        return chroot(root, *command)
    # The root's /proc is already mounted (throwaway_root); --bind takes it along.
    entry = ["bwrap", "--bind", str(root), "/", "--dev-bind", "/dev", "/dev"]
    return subprocess.run([*entry, *command], capture_output=True, text=True)
