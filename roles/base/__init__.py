"""Every node: admin users, SSH hardening, unattended upgrades, time sync, node_exporter."""

from __future__ import annotations

from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server

from roles import units

HERE = Path(__file__).resolve().parent
PACKAGES = [
    "ca-certificates",
    "openssh-server",
    "sudo",
    "unattended-upgrades",
    "systemd-timesyncd",
    "prometheus-node-exporter",
    "python3",
]
SERVICE_USER = "stackyard"


def service_user() -> None:
    """The unprivileged user the Stackyard processes run as (also ensured by the release)."""
    server.group(name="Service group", group=SERVICE_USER, system=True)
    server.user(  # noqa: S604 - `shell` is a login shell, not a subprocess
        name="Service user (runs the Stackyard processes)",
        user=SERVICE_USER,
        group=SERVICE_USER,
        home="/var/lib/stackyard",
        shell="/usr/sbin/nologin",
        system=True,
        create_home=True,
    )


@deploy("base")
def base() -> None:
    """What every node kind shares; the other roles assume it ran first."""
    apt.packages(
        name="Install the base packages",
        packages=PACKAGES,
        update=True,
        cache_time=3600,
        no_recommends=True,
    )
    service_user()
    _admins()
    _ssh()
    _unattended_upgrades()
    _time_sync()
    _node_exporter()


def _admins() -> None:
    for admin in host.data.get("admin_users", []):
        server.user(  # noqa: S604 - `shell` is a login shell, not a subprocess
            name=f"Admin user {admin['name']}",
            user=admin["name"],
            shell="/bin/bash",
            groups=["sudo"],
            public_keys=admin.get("ssh_keys", []),
            create_home=True,
        )
    sudoers = files.template(
        name="Sudo without a password for key-only admins",
        src=str(HERE / "sudoers.j2"),
        dest="/etc/sudoers.d/stackyard-admins",
        mode="440",
        user="root",
        group="root",
    )
    server.shell(
        name="Check the sudoers file",
        commands=["visudo -cf /etc/sudoers.d/stackyard-admins"],
        _if=sudoers.did_change,
    )


def _ssh() -> None:
    config = files.template(
        name="Harden sshd (keys only, no root password login)",
        src=str(HERE / "sshd_config.j2"),
        dest="/etc/ssh/sshd_config.d/50-stackyard.conf",
        mode="644",
        ssh_port=host.data.get("ssh_port", 22),
    )
    server.shell(
        name="Check the sshd configuration",
        commands=["mkdir -p /run/sshd && sshd -t"],
        _if=config.did_change,
    )
    units.running("ssh.service", unit_path="/lib/systemd/system/ssh.service", restart_on=[config])


def _unattended_upgrades() -> None:
    files.template(
        name="Daily package lists and unattended upgrades",
        src=str(HERE / "20auto-upgrades.j2"),
        dest="/etc/apt/apt.conf.d/20auto-upgrades",
        mode="644",
    )
    files.template(
        name="Unattended upgrades: security and updates, reboot policy",
        src=str(HERE / "52stackyard-unattended-upgrades.j2"),
        dest="/etc/apt/apt.conf.d/52stackyard-unattended-upgrades",
        mode="644",
        reboot=bool(host.data.get("unattended_upgrades_reboot", False)),
    )


def _time_sync() -> None:
    config = files.template(
        name="Time servers for systemd-timesyncd",
        src=str(HERE / "timesyncd.conf.j2"),
        dest="/etc/systemd/timesyncd.conf.d/stackyard.conf",
        mode="644",
        servers=host.data.get("time_servers", []),
        fallback=host.data.get("fallback_time_servers", []),
    )
    units.running(
        "systemd-timesyncd.service",
        unit_path="/lib/systemd/system/systemd-timesyncd.service",
        restart_on=[config],
    )


def _node_exporter() -> None:
    config = files.template(
        name="node_exporter flags",
        src=str(HERE / "prometheus-node-exporter.j2"),
        dest="/etc/default/prometheus-node-exporter",
        mode="644",
        listen=host.data.get("node_exporter_listen", ":9100"),
    )
    units.running(
        "prometheus-node-exporter.service",
        unit_path="/lib/systemd/system/prometheus-node-exporter.service",
        restart_on=[config],
    )
