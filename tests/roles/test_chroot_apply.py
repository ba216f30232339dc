"""Each role applied for real into a throwaway Debian bookworm root through pyinfra's @chroot
connector, its files checked with the tools that read them, then applied again: no changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.roles.conftest import chroot, read

pytestmark = pytest.mark.slow


def assert_idempotent(apply, *args, **kwargs) -> None:
    again = apply(*args, **kwargs)
    assert not again.failed
    assert again.changed == [], f"second run changed: {again.changed}"


def test_base_role_hardens_ssh_and_enables_time_sync_and_node_exporter(
    apply_in_root, debian_root: Path
):
    first = apply_in_root("local", "app-1", ["base"])
    assert not first.failed and first.changed
    sshd = read(debian_root, "/etc/ssh/sshd_config.d/50-stackyard.conf")
    assert "PasswordAuthentication no" in sshd
    check = chroot(debian_root, "sh", "-c", "mkdir -p /run/sshd && sshd -t")
    assert check.returncode == 0, check.stderr
    assert "NTP=0.debian.pool.ntp.org" in read(
        debian_root, "/etc/systemd/timesyncd.conf.d/stackyard.conf"
    )
    wants = debian_root / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "prometheus-node-exporter.service").is_symlink()
    assert (wants / "systemd-timesyncd.service").is_symlink() or (
        debian_root / "etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"
    ).is_symlink()
    assert 'Unattended-Upgrade "1"' in read(debian_root, "/etc/apt/apt.conf.d/20auto-upgrades")
    assert "stackyard:" in read(debian_root, "/etc/passwd")
    assert_idempotent(apply_in_root, "local", "app-1", ["base"])
