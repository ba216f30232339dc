"""Systemd units the same way on a running machine and in an image or chroot.

On a booted host (`systemd_running`, the default) units are enabled, started, and restarted
when one of the given operations changed something. Without a running systemd (image builds,
the chroot tests) `systemctl` cannot be asked, so the unit is enabled the way `systemctl
enable` does it offline: the `WantedBy=` symlink.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyinfra import host
from pyinfra.api.operation import OperationMeta
from pyinfra.operations import files, systemd

WANTS = "/etc/systemd/system/multi-user.target.wants"


def _changed_any(changes: Sequence[OperationMeta]) -> bool:
    return any(change.did_change() for change in changes)


def running(
    unit: str,
    *,
    unit_path: str,
    restart_on: Sequence[OperationMeta] = (),
    reload_changed: bool = False,
) -> None:
    """Enable `unit` (whose file is `unit_path`), start it, and restart it after `restart_on`.

    `reload_changed` reloads systemd's view of unit files first (after an own unit changed).
    """
    if not host.data.get("systemd_running", True):
        files.link(
            name=f"Enable {unit} (offline)",
            path=f"{WANTS}/{unit}",
            target=unit_path,
        )
        return
    systemd.service(
        name=f"Enable and start {unit}",
        service=unit,
        running=True,
        enabled=True,
        daemon_reload=reload_changed,
    )
    if restart_on:
        systemd.service(
            name=f"Restart {unit} after a change",
            service=unit,
            restarted=True,
            _if=lambda: _changed_any(restart_on),
        )


def stopped(unit: str, *, unit_path: str) -> None:
    """Keep a packaged unit (nginx's default site, a package's own daemon) off."""
    if not host.data.get("systemd_running", True):
        files.link(
            name=f"Disable {unit} (offline)",
            path=f"{WANTS}/{unit}",
            present=False,
        )
        return
    systemd.service(name=f"Stop and disable {unit}", service=unit, running=False, enabled=False)


def daemon_reload_if(changes: Sequence[OperationMeta]) -> None:
    """Reload unit files after one of ours changed (nothing to reload without systemd)."""
    if host.data.get("systemd_running", True):
        systemd.daemon_reload(name="Reload systemd unit files", _if=lambda: _changed_any(changes))
