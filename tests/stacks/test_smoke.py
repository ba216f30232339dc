"""`stackyard infra smoke`: the topology through the AWS APIs of a local moto server."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from apps.cli import app
from stacks.config import config_from_file
from stacks.smoke import Topology, verify

moto_server = pytest.importorskip("moto.server")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == "127.0.0.1"
    yield f"http://{host}:{port}"
    server.stop()


def test_smoke_builds_and_wires_the_prod_topology(endpoint):
    result = CliRunner().invoke(app, ["infra", "smoke", "--endpoint", endpoint, "--env", "prod"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "path routing" in result.output
    assert "database multi-AZ is True" in result.output


def test_smoke_notices_a_database_opened_to_the_world(endpoint):
    topology = Topology(config_from_file("dev"), endpoint)
    topology.build()
    assert verify(topology).ok
    topology.ec2.authorize_security_group_ingress(
        GroupId=topology.groups["database"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    topology.report.checks.clear()
    report = verify(topology)
    failed = [check.name for check in report.checks if not check.ok]
    assert failed == ["database reachable only from app and worker"]


def test_smoke_fails_cleanly_when_nothing_listens():
    result = CliRunner().invoke(app, ["infra", "smoke", "--endpoint", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "error" in result.output


@pytest.mark.skipif(
    shutil.which("pulumi") is None,
    reason="the Pulumi CLI is not installed here; "
    "the program is exercised under pulumi.runtime.set_mocks instead",
)
def test_pulumi_preview_where_a_cli_exists(tmp_path):
    import os
    import subprocess

    from stacks.config import PROJECT_ROOT

    if not os.environ.get("AWS_ACCESS_KEY_ID") and not os.environ.get("AWS_PROFILE"):
        pytest.skip("pulumi preview needs AWS credentials for the provider's lookups")
    # A copy of the project: `pulumi config set --secret` writes into Pulumi.dev.yaml.
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(PROJECT_ROOT / name, project / name)
    shutil.copytree(PROJECT_ROOT / "stacks", project / "stacks")
    (project / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    env = dict(
        os.environ,
        PULUMI_BACKEND_URL=f"file://{tmp_path}",
        PULUMI_CONFIG_PASSPHRASE="preview-only",
    )

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["pulumi", *args], cwd=project, env=env, capture_output=True, text=True, check=False
        )

    assert pulumi("stack", "init", "dev").returncode == 0
    assert pulumi("config", "set", "--secret", "redisAuthToken", "x" * 32).returncode == 0
    result = pulumi("preview", "--stack", "dev", "--non-interactive")
    assert result.returncode == 0, result.stderr
