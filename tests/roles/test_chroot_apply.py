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


def tiny_release(folder: Path) -> Path:
    """A real wheel named stackyard with a `stackyard` console script and no dependencies, so
    the app role's install runs without the package index (the real release needs PyPI)."""
    import zipfile

    wheel = folder / "stackyard-0.1.0-py3-none-any.whl"
    files = {
        "stackyard_release_probe.py": "def main():\n    print('stackyard release probe')\n",
        "stackyard-0.1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: stackyard\n"
        "Version: 0.1.0\n",
        "stackyard-0.1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
        "stackyard-0.1.0.dist-info/entry_points.txt": "[console_scripts]\n"
        "stackyard = stackyard_release_probe:main\n",
    }
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        record = "".join(f"{name},,\n" for name in files) + "stackyard-0.1.0.dist-info/RECORD,,\n"
        archive.writestr("stackyard-0.1.0.dist-info/RECORD", record)
    return wheel


def test_app_role_installs_the_release_and_a_serve_unit(apply_in_root, debian_root, tmp_path):
    wheel = tiny_release(tmp_path)
    data = {"stackyard_wheel": str(wheel), "app_workers": 3}
    first = apply_in_root("local", "app-1", ["app"], **data)
    assert not first.failed
    unit = read(debian_root, "/etc/systemd/system/stackyard-app.service")
    assert "ExecStart=/opt/stackyard/venv/bin/stackyard serve --host 0.0.0.0" in unit
    assert "--workers 3" in unit and "User=stackyard" in unit
    probe = chroot(debian_root, "/opt/stackyard/venv/bin/stackyard")
    assert probe.stdout.strip() == "stackyard release probe", probe.stderr
    assert 'REDIS_URL="redis://192.0.2.71:6379/0"' in read(debian_root, "/etc/stackyard/app.env")
    wants = debian_root / "etc/systemd/system/multi-user.target.wants/stackyard-app.service"
    assert wants.is_symlink()
    assert_idempotent(apply_in_root, "local", "app-1", ["app"], **data)


def test_edge_role_config_passes_nginx_t_in_the_root(apply_in_root, debian_root):
    first = apply_in_root("local", "edge-eu-1", ["edge"])
    assert not first.failed
    check = chroot(debian_root, "nginx", "-t", "-c", "/etc/nginx/stackyard-edge.conf")
    assert check.returncode == 0, check.stderr
    assert "load_module /usr/lib/nginx/modules/ngx_http_cache_purge_module.so" in read(
        debian_root, "/etc/nginx/stackyard-edge.conf"
    )
    wants = debian_root / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "stackyard-edge.service").is_symlink()
    assert not (wants / "nginx.service").is_symlink()
    assert_idempotent(apply_in_root, "local", "edge-eu-1", ["edge"])


def test_lb_role_config_passes_haproxy_c_in_the_root(apply_in_root, debian_root):
    first = apply_in_root("local", "lb-1", ["lb"])
    assert not first.failed
    check = chroot(debian_root, "haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg")
    assert check.returncode == 0, check.stdout + check.stderr
    assert_idempotent(apply_in_root, "local", "lb-1", ["lb"])


def test_observability_rules_pass_promtool_in_the_root(apply_in_root, debian_root):
    first = apply_in_root("local", "prometheus", ["observability"], grafana_install=False)
    assert not first.failed
    rules = chroot(debian_root, "sh", "-c", "promtool check rules /etc/prometheus/rules/*.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = chroot(debian_root, "promtool", "check", "config", "/etc/prometheus/prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    assert (debian_root / "var/lib/grafana/dashboards/stackyard/platform.json").exists()
    assert_idempotent(
        apply_in_root, "local", "prometheus", ["observability"], grafana_install=False
    )
