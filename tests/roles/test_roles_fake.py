"""What each role would do on a fresh Debian host, through pyinfra's @fake connector."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from roles.inventories import InventoryError, plan_nodes, read_outputs
from tests.roles.conftest import OUTPUTS, nodes_of


def test_inventory_has_one_node_per_host_of_the_stack_outputs():
    nodes = nodes_of("dev")
    outputs = read_outputs("dev", OUTPUTS / "dev.json")
    assert sorted(n.address for n in nodes) == sorted(
        h["address"] for hosts in outputs["hosts"].values() for h in hosts
    )
    app = next(n for n in nodes if n.kind == "app")
    assert app.roles == ("base", "app")
    assert app.data["app_workers"] == 1  # group_data/dev.py over all.py


def test_group_data_differs_per_environment():
    outputs = read_outputs("dev", OUTPUTS / "dev.json")
    prod = plan_nodes({**outputs, "environment": "prod"}, "prod")
    assert next(n for n in prod if n.kind == "app").data["app_workers"] == 4


def test_outputs_of_another_environment_are_refused():
    with pytest.raises(InventoryError, match=r"not .prod."):
        read_outputs("prod", OUTPUTS / "dev.json")


def test_unknown_node_kind_and_missing_address_are_named():
    outputs = read_outputs("dev", OUTPUTS / "dev.json")
    with pytest.raises(InventoryError, match=r"hosts\.mystery"):
        plan_nodes({**outputs, "hosts": {"mystery": []}}, "dev")
    with pytest.raises(InventoryError, match=r"hosts.app\[0\].address"):
        plan_nodes({**outputs, "hosts": {"app": [{"name": "a", "address": ""}]}}, "dev")


def test_aws_nodes_are_reached_by_instance_id_through_session_manager():
    from roles.inventories import build_inventory

    inventory = build_inventory(nodes_of("dev"))
    app = next(h for h in inventory if h.data.get("node_kind") == "app")
    assert app.data.get("ssh_hostname").startswith("i-")


def test_self_hosted_stores_and_lb_become_app_settings():
    app = next(n for n in nodes_of("local") if n.name == "app-1")
    env = app.data["app_env"]
    assert env["REDIS_URL"] == "redis://192.0.2.71:6379/0"
    assert env["CELERY_BROKER_URL"] == "redis://192.0.2.71:6380/0"
    assert env["FORWARDED_ALLOW_IPS"] == "192.0.2.5"
    assert app.data["ssh_via"] == "direct"


def test_app_unit_serves_with_the_workers_and_env_file_of_host_data(fake_run):
    run = fake_run("local", role="app", app_workers=3, app_env={"CORS_ORIGINS": "https://x"})
    unit = run.file("app-1", "/etc/systemd/system/stackyard-app.service")
    assert "stackyard serve --host 0.0.0.0 --port 8000 --workers 3" in unit
    assert "EnvironmentFile=/etc/stackyard/app.env" in unit
    assert "ExecStartPre=/opt/stackyard/venv/bin/stackyard migrate" in unit
    second = run.file("app-2", "/etc/systemd/system/stackyard-app.service")
    assert "migrate" not in second  # only the first app node migrates
    env = run.file("app-1", "/etc/stackyard/app.env")
    assert 'CORS_ORIGINS="https://x"' in env and 'REDIS_URL="redis://192.0.2.71:6379/0"' in env
    assert run.ran("app-1", "systemctl enable stackyard-app.service")


def test_worker_runs_beat_on_the_first_worker_only(fake_run):
    run = fake_run("local", role="worker")
    assert run.ran("worker-1", "systemctl enable stackyard-beat.service")
    assert not run.ran("worker-2", "systemctl enable stackyard-beat.service")
    unit = run.file("worker-2", "/etc/systemd/system/stackyard-worker.service")
    assert "stackyard worker --concurrency 2" in unit


def test_offline_roles_enable_units_by_symlink_and_never_call_systemctl(fake_run):
    run = fake_run("local", role="app", systemd_running=False)
    assert not run.ran("app-1", "systemctl ")
    assert run.ran("app-1", "ln -s /etc/systemd/system/stackyard-app.service")


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")
def test_edge_renders_the_cdn_template_into_a_valid_nginx_config(fake_run, tmp_path: Path):
    run = fake_run("local", role="edge", edge_purge_module=False)
    config = run.file("edge-eu-1", "/etc/nginx/stackyard-edge.conf")
    assert "keys_zone=edge-eu-1:" in config and "server 127.0.0.1:8080" in config
    assert run.ran("edge-eu-1", "nginx -t -q -c /etc/nginx/stackyard-edge.conf")
    for folder in ("cache", "temp", "logs"):
        (tmp_path / folder).mkdir()
    local = (
        config.replace("/var/cache/stackyard-edge", str(tmp_path / "cache"))
        .replace("/var/lib/stackyard-edge", str(tmp_path / "temp"))
        .replace("/var/log/nginx", str(tmp_path / "logs"))
        .replace("user www-data;", "")
        .replace("/run/stackyard-edge.pid", str(tmp_path / "edge.pid"))
    )
    (tmp_path / "nginx.conf").write_text(local)
    check = subprocess.run(
        ["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "logs/e.log")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")
def test_lb_balances_over_every_app_node_and_passes_haproxy_check(fake_run, tmp_path: Path):
    run = fake_run("local", role="lb")
    config = run.file("lb-1", "/etc/haproxy/haproxy.cfg")
    assert "server app-1 192.0.2.11:8000 check" in config
    assert "server app-2 192.0.2.12:8000 check" in config
    (tmp_path / "haproxy.cfg").write_text(config)
    check = subprocess.run(
        ["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_redis_runs_a_noeviction_broker_apart_from_the_cache(fake_run):
    run = fake_run("local", role="redis")
    cache = run.file("redis-1", "/etc/redis/redis-cache.conf")
    broker = run.file("redis-1", "/etc/redis/redis-broker.conf")
    assert "maxmemory-policy allkeys-lru" in cache and "port 6379" in cache
    assert "maxmemory-policy noeviction" in broker and "appendonly yes" in broker
    assert run.ran("redis-1", "systemctl enable redis-server@broker.service")


def test_postgres_admits_only_app_and_worker_nodes(fake_run):
    run = fake_run("local", role="postgres", systemd_running=False)
    hba = run.file("db-1", "/etc/postgresql/15/main/pg_hba.conf")
    for address in ("192.0.2.11", "192.0.2.12", "192.0.2.21", "192.0.2.22"):
        assert f"{address}/32" in hba
    assert "192.0.2.41" not in hba  # the observability node is not a client


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_observability_loads_the_project_rules_and_dashboards(fake_run, tmp_path: Path):
    run = fake_run("local", role="observability", grafana_install=False)
    uploads = run.uploads["prometheus"]
    assert "/etc/prometheus/rules/alerts.yml" in uploads
    assert "/var/lib/grafana/dashboards/stackyard/platform.json" in uploads
    assert (
        "uid: stackyard-prometheus"
        in uploads["/etc/grafana/provisioning/datasources/stackyard.yml"]
    )
    config = uploads["/etc/prometheus/prometheus.yml"]
    assert '"192.0.2.11:8000"' in config and '"192.0.2.71:9100"' in config
    (tmp_path / "rules").mkdir()
    for path, text in uploads.items():
        if path.startswith("/etc/prometheus/rules/"):
            (tmp_path / "rules" / Path(path).name).write_text(text)
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/rules", str(tmp_path / "rules"))
    )
    check = subprocess.run(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_observability_on_aws_finds_targets_by_ec2_tags(fake_run):
    run = fake_run("dev", role="observability")
    config = run.file("prometheus", "/etc/prometheus/prometheus.yml")
    assert "ec2_sd_configs" in config and 'values: ["dev"]' in config
    assert run.ran("prometheus", "apt.grafana.com/gpg.key")


def test_sandbox_unpacks_runner_images_and_installs_the_runner_command(fake_run, tmp_path: Path):
    image = tmp_path / "python.tar"
    subprocess.run(["tar", "-cf", str(image), "-C", str(tmp_path), "."], check=True)
    run = fake_run("local", role="sandbox", sandbox_runners=[{"name": "python", "path": image}])
    script = run.file("sandbox-0", "/usr/local/bin/stackyard-sandbox-run")
    assert "--unshare-all" in script and "python) ;;" in script
    assert run.ran("sandbox-0", "tar -xf /var/lib/stackyard/runner-images/python.tar")


def test_deploy_command_rejects_an_unknown_role(tmp_path: Path):
    from typer.testing import CliRunner

    from apps.deploy.cli import cli

    result = CliRunner().invoke(
        cli, ["dev", "--outputs", str(OUTPUTS / "dev.json"), "--role", "nope"]
    )
    assert result.exit_code == 2
