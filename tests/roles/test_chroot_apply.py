"""Each role applied for real into a throwaway Debian bookworm root through pyinfra's @chroot
connector, its files checked with the tools that read them, then applied again: no changes."""

from __future__ import annotations

import io
import re
import shlex
import subprocess
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.roles.conftest import chroot, enter, nodes_of, read

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


def test_worker_units_run_the_release_and_beat_only_on_the_first_worker(
    apply_in_root, debian_root: Path, tmp_path: Path
):
    data = {"stackyard_wheel": str(tiny_release(tmp_path)), "worker_concurrency": 3}
    first = apply_in_root("local", "worker-1", ["worker"], **data)
    assert not first.failed and first.changed
    worker = read(debian_root, "/etc/systemd/system/stackyard-worker.service")
    beat = read(debian_root, "/etc/systemd/system/stackyard-beat.service")
    assert "User=stackyard" in worker and "EnvironmentFile=/etc/stackyard/app.env" in worker
    assert "KillSignal=SIGTERM" in worker and "TimeoutStopSec=300" in worker
    exec_start = re.search(r"^ExecStart=(.+)$", worker, re.MULTILINE)
    assert exec_start, worker
    assert exec_start[1] == "/opt/stackyard/venv/bin/stackyard worker --concurrency 3"
    assert "ExecStart=/opt/stackyard/venv/bin/stackyard beat\n" in beat
    program = shlex.split(exec_start[1])
    assert (debian_root / program[0].lstrip("/")).is_file()
    # The service user runs the unit's command line inside the root (the probe release).
    ran = chroot(debian_root, "runuser", "-u", "stackyard", "--", *program)
    assert ran.returncode == 0 and ran.stdout.strip() == "stackyard release probe", ran.stderr
    wants = debian_root / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "stackyard-worker.service").readlink() == Path(
        "/etc/systemd/system/stackyard-worker.service"
    )
    assert (wants / "stackyard-beat.service").is_symlink()
    assert_idempotent(apply_in_root, "local", "worker-1", ["worker"], **data)
    # The same root as the second worker node: beat is switched off, the worker stays on.
    second = apply_in_root("local", "worker-2", ["worker"], **data)
    assert not second.failed
    assert not (wants / "stackyard-beat.service").is_symlink()
    assert (wants / "stackyard-worker.service").is_symlink()
    assert_idempotent(apply_in_root, "local", "worker-2", ["worker"], **data)


# Never 5432 or 6379: the host's own servers. Sockets only, under the root's /tmp.
PG_PORT = 54329
PG_SOCKET = "/tmp/stackyard-pg"
PG_BIN = "/usr/lib/postgresql/15/bin"


def as_postgres(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """A command as the root's postgres user (su sets its groups: ssl-cert for the key)."""
    return chroot(root, "su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command))


def psql(root: Path, sql: str, database: str = "postgres") -> str:
    result = as_postgres(
        root, "psql", "-h", PG_SOCKET, "-p", str(PG_PORT), "-d", database, "-Atc", sql
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@contextmanager
def postgres_in_root(root: Path) -> Iterator[None]:
    """The root's cluster started from its own config, on a unix socket only; always stopped."""
    options = f"-c port={PG_PORT} -c listen_addresses= -c unix_socket_directories={PG_SOCKET}"
    data_dir = "/var/lib/postgresql/15/main"
    config = "-c config_file=/etc/postgresql/15/main/postgresql.conf"
    started = as_postgres(
        root,
        "sh",
        "-c",
        f"mkdir -p {PG_SOCKET} && {PG_BIN}/pg_ctl -D {data_dir} -l /tmp/stackyard-pg.log -w "
        f"-t 60 -o {shlex.quote(config + ' ' + options)} start",
    )
    try:
        log = (root / "tmp/stackyard-pg.log").read_text() if started.returncode else ""
        assert started.returncode == 0, started.stdout + started.stderr + log
        yield
    finally:
        as_postgres(root, f"{PG_BIN}/pg_ctl", "-D", data_dir, "-m", "fast", "-w", "stop")


def test_postgres_cluster_loads_the_role_config_and_gets_the_app_role(
    apply_in_root, debian_root: Path
):
    first = apply_in_root("local", "db-1", ["postgres"])
    assert not first.failed and first.changed
    db = next(n for n in nodes_of("local") if n.name == "db-1")
    secret = {
        "postgres_password": "it's-a-test",
        "postgres_admin_socket": PG_SOCKET,
        "postgres_admin_port": PG_PORT,
    }
    with postgres_in_root(debian_root):
        assert psql(debian_root, "SHOW max_connections") == str(db.data["postgres_max_connections"])
        assert psql(debian_root, "SHOW password_encryption") == "scram-sha-256"
        assert psql(debian_root, "SHOW ssl") == "on"
        assert psql(debian_root, "SHOW listen_addresses") == ""  # no TCP next to the host's
        errors = psql(debian_root, "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL")
        assert errors == "0"
        rules = psql(
            debian_root,
            "SELECT address FROM pg_hba_file_rules WHERE type = 'hostssl' ORDER BY address",
        )
        assert rules.split() == ["192.0.2.11", "192.0.2.12", "192.0.2.21", "192.0.2.22"]
        # The application role and database, through the server started above.
        second = apply_in_root("local", "db-1", ["postgres"], **secret)
        assert not second.failed
        made = [n for n in second.changed if "Application role" in n or "database" in n]
        assert len(made) == 2 and made == second.changed, second.changed
        owner = psql(
            debian_root,
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'stackyard'",
        )
        assert owner == "stackyard"
        verifier = psql(
            debian_root, "SELECT rolpassword FROM pg_authid WHERE rolname = 'stackyard'"
        )
        assert verifier.startswith("SCRAM-SHA-256$")
        assert_idempotent(apply_in_root, "local", "db-1", ["postgres"], **secret)
        # A new password is set on the next run.
        changed = apply_in_root(
            "local", "db-1", ["postgres"], **{**secret, "postgres_password": "rotated"}
        )
        assert [name for name in changed.changed if "Application role" in name], changed.changed
        rotated = psql(debian_root, "SELECT rolpassword FROM pg_authid WHERE rolname = 'stackyard'")
        assert rotated != verifier
    enabled = debian_root / "etc/systemd/system/multi-user.target.wants/postgresql.service"
    assert read(debian_root, str(enabled.readlink())).startswith(
        "# postgresql.service is the meta unit"
    )


def redis_ids(root: Path) -> str:
    """uid:gid of the root's redis user, numeric: chroot resolves names outside the root."""
    for line in read(root, "/etc/passwd").splitlines():
        fields = line.split(":")
        if fields[0] == "redis":
            return f"{fields[2]}:{fields[3]}"
    raise AssertionError("no redis user in the root")


@contextmanager
def redis_in_root(root: Path, name: str) -> Iterator[str]:
    """One instance from its generated config, on a unix socket only (no TCP port); always
    shut down. Yields the socket path inside the root."""
    socket = f"/tmp/stackyard-redis-{name}.sock"
    output = root / f"tmp/stackyard-redis-{name}.out"
    with output.open("w") as console:
        server = subprocess.Popen(
            [
                "chroot",
                f"--userspec={redis_ids(root)}",
                str(root),
                "redis-server",
                f"/etc/redis/redis-{name}.conf",
                "--port",
                "0",
                "--unixsocket",
                socket,
            ],
            stdout=console,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while not (root / socket.lstrip("/")).exists():
            if server.poll() is not None or time.monotonic() > deadline:
                log = root / f"var/log/redis/redis-server-{name}.log"
                said = output.read_text() + (log.read_text() if log.exists() else "")
                raise AssertionError(f"redis {name} did not start: {said}")
            time.sleep(0.05)
        yield socket
        chroot(root, "redis-cli", "-s", socket, "shutdown", "nosave")
        server.wait(timeout=15)
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=15)


def redis_config(root: Path, socket: str, key: str) -> str:
    result = chroot(root, "redis-cli", "-s", socket, "config", "get", key)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[0] == key, result.stdout
    return lines[1]


def test_redis_instances_start_with_their_own_eviction_and_persistence(
    apply_in_root, debian_root: Path
):
    first = apply_in_root("local", "redis-1", ["redis"])
    assert not first.failed and first.changed
    expected = {
        "cache": {"maxmemory-policy": "allkeys-lru", "appendonly": "no"},
        "broker": {"maxmemory-policy": "noeviction", "appendonly": "yes"},
    }
    for name, settings in expected.items():
        with redis_in_root(debian_root, name) as socket:
            for key, value in settings.items():
                assert redis_config(debian_root, socket, key) == value, (name, key)
            assert redis_config(debian_root, socket, "dir") == f"/var/lib/redis/{name}"
            ping = chroot(debian_root, "redis-cli", "-s", socket, "set", "probe", "1")
            assert ping.stdout.strip() == "OK", ping.stdout + ping.stderr
    assert (debian_root / "var/lib/redis/broker/appendonlydir").is_dir()
    assert not (debian_root / "var/lib/redis/cache/appendonlydir").exists()
    wants = debian_root / "etc/systemd/system/multi-user.target.wants"
    assert not (wants / "redis-server.service").is_symlink()
    for name in expected:
        link = wants / f"redis-server@{name}.service"
        assert link.is_symlink(), link
        unit = read(debian_root, str(link.readlink()))
        assert "/etc/redis/redis-%i.conf" in unit
    assert_idempotent(apply_in_root, "local", "redis-1", ["redis"])


def runner_tarball(root: Path, path: Path, marker: str) -> Path:
    """A tiny runner root: dash and cat with their libc, copied from the Debian root, and
    /etc/runner holding `marker`; the mount points bwrap needs, nothing else."""
    programs = {
        "usr/bin/dash": "usr/bin/dash",
        "usr/bin/cat": "usr/bin/cat",
        "usr/lib/x86_64-linux-gnu/libc.so.6": "usr/lib/x86_64-linux-gnu/libc.so.6",
        "usr/lib64/ld-linux-x86-64.so.2": "usr/lib64/ld-linux-x86-64.so.2",
    }
    links = {"bin": "usr/bin", "lib": "usr/lib", "lib64": "usr/lib64", "usr/bin/sh": "dash"}
    with tarfile.open(path, "w") as archive:
        for folder in ("proc", "dev", "tmp", "etc", "usr/bin", "usr/lib64"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755
            archive.addfile(info)
        for arcname, source in programs.items():
            archive.add((root / source).resolve(), arcname=arcname)
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
        content = f"{marker}\n".encode()
        info = tarfile.TarInfo("etc/runner")
        info.size, info.mode = len(content), 0o644
        archive.addfile(info, io.BytesIO(content))
    return path


# What bubblewrap says when the kernel or the container refuses it new namespaces.
NAMESPACES_REFUSED = re.compile(
    r"bwrap: (Creating new namespace failed|No permissions to creat\w* new namespace|"
    r"setting up uid map|loopback: Failed)"
)


def test_sandbox_runs_commands_inside_the_runner_root_without_network(
    apply_in_root, debian_root: Path, tmp_path: Path
):
    image = runner_tarball(debian_root, tmp_path / "tiny.tar", "tiny runner v1")
    data = {"sandbox_runners": [{"name": "tiny", "path": str(image)}]}
    first = apply_in_root("local", "sandbox-0", ["sandbox"], **data)
    assert not first.failed and first.changed
    runner = debian_root / "var/lib/stackyard/runners/tiny"
    assert (runner / "etc/runner").read_text() == "tiny runner v1\n"
    unknown = chroot(debian_root, "stackyard-sandbox-run", "nope", "cat", "/etc/runner")
    assert unknown.returncode == 2 and "unknown runner: nope (known: tiny)" in unknown.stderr
    assert_idempotent(apply_in_root, "local", "sandbox-0", ["sandbox"], **data)
    # A new build of the image (a new file: pyinfra caches a local file's hash by its path).
    image = runner_tarball(debian_root, tmp_path / "tiny-v2.tar", "tiny runner v2")
    data = {"sandbox_runners": [{"name": "tiny", "path": str(image)}]}
    again = apply_in_root("local", "sandbox-0", ["sandbox"], **data)
    assert [name for name in again.changed if "Unpack runner tiny" in name], again.changed
    assert (runner / "etc/runner").read_text() == "tiny runner v2\n"
    assert not (debian_root / "var/lib/stackyard/runners/tiny.new").exists()

    inside = enter(
        debian_root,
        "stackyard-sandbox-run",
        "tiny",
        "sh",
        "-c",
        "cat /etc/runner; test -e /etc/debian_version && echo debian; cat /proc/net/dev",
    )
    if inside.returncode != 0 and NAMESPACES_REFUSED.search(inside.stderr):
        pytest.skip(f"bubblewrap cannot create namespaces here: {inside.stderr.strip()}")
    assert inside.returncode == 0, inside.stderr
    lines = inside.stdout.splitlines()
    assert lines[0] == "tiny runner v2"  # the runner's root, not the Debian one
    assert "debian" not in lines
    interfaces = [line.split(":")[0].strip() for line in lines[1:] if ":" in line]
    assert interfaces == ["lo"], inside.stdout
