"""`stackyard` commands: users, serve's refusals and its ready line, settings validation."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from apps.cli import app
from apps.kernel.settings import SettingsError, load_settings
from tests.conftest import unique_email
from tests.support.servers import free_port, live_server

runner = CliRunner()
PASSWORD = "a long enough passphrase"


def test_users_create_then_exists_then_policy(stack):
    email = unique_email("cli")
    created = runner.invoke(
        app, ["users", "create", email, "--admin", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert created.exit_code == 0, created.output
    assert "admin" in created.output
    again = runner.invoke(
        app, ["users", "create", email, "--password-stdin"], input=PASSWORD + "\n"
    )
    assert again.exit_code == 1
    weak = runner.invoke(
        app, ["users", "create", unique_email("cli"), "--password-stdin"], input="short\n"
    )
    assert weak.exit_code == 2


def test_created_admin_can_log_in_with_admin_role(stack, client):
    email = unique_email("cli")
    assert (
        runner.invoke(
            app, ["users", "create", email, "--admin", "--password-stdin"], input=PASSWORD + "\n"
        ).exit_code
        == 0
    )
    token = client.post("/auth/login", json={"email": email, "password": PASSWORD}).json()[
        "access_token"
    ]
    client.cookies.clear()
    assert (
        client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["role"]
        == "admin"
    )


def test_users_promote(stack, client):
    email = unique_email("cli")
    assert (
        runner.invoke(
            app, ["users", "create", email, "--password-stdin"], input=PASSWORD + "\n"
        ).exit_code
        == 0
    )
    promoted = runner.invoke(app, ["users", "promote", email, "--role", "admin"])
    assert promoted.exit_code == 0
    assert runner.invoke(app, ["users", "promote", unique_email("nobody")]).exit_code == 1
    assert runner.invoke(app, ["users", "promote", email, "--role", "emperor"]).exit_code == 2


def test_bad_settings_are_named(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "http://nope")
    with pytest.raises(SettingsError, match="REDIS_URL"):
        load_settings()
    monkeypatch.delenv("REDIS_URL")
    monkeypatch.setenv("ACCESS_TOKEN_TTL", "soon")
    with pytest.raises(SettingsError, match="ACCESS_TOKEN_TTL"):
        load_settings()


def test_jwt_secret_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("STACKYARD_DATA_DIR", str(tmp_path))
    first = load_settings().jwt_secret
    assert load_settings().jwt_secret == first
    assert oct((tmp_path / "jwt-secret").stat().st_mode & 0o777) == "0o600"


def _serve(tmp_path, *args, env=None):
    full_env = dict(os.environ, STACKYARD_DATA_DIR=str(tmp_path), **(env or {}))
    full_env.pop("REDIS_URL", None)
    full_env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "apps.cli", "serve", "--port", str(free_port()), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_refuses_several_workers_without_redis(tmp_path):
    result = _serve(tmp_path, "--workers", "2")
    assert result.returncode == 2
    assert "REDIS_URL" in result.stderr


def test_serve_refuses_an_unmigrated_database(tmp_path):
    result = _serve(tmp_path)
    assert result.returncode == 1
    assert "stackyard migrate" in result.stderr


def test_serve_refuses_an_unknown_app(tmp_path):
    result = _serve(tmp_path, "--app", "nonsense")
    assert result.returncode == 2
    assert "nonsense" in result.stderr


@pytest.mark.slow
def test_serve_announces_itself_and_serves_a_subset(tmp_path):
    has_blog = _has_app("blog")
    with live_server(tmp_path, args=("--app", "blog") if has_blog else ()) as server:
        deadline = time.monotonic() + 10
        while "serving on" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"serving on {server.url}" in server.output()
        assert httpx.get(f"{server.url}/ready", timeout=5).json()["status"] == "ready"
        if has_blog:
            schema = httpx.get(f"{server.url}/schema/openapi.json", timeout=5).json()
            assert any(p.startswith("/blog") for p in schema["paths"])
            assert not any(p.startswith("/todo") for p in schema["paths"])


def _has_app(name: str) -> bool:
    from apps.gateway import available_apps

    return name in available_apps()


@pytest.mark.slow
def test_several_workers_share_one_metrics_view(stack, tmp_path):
    """With --workers 2 (real Redis), /metrics sums every worker's counts (multiprocess mode)."""
    if not stack.real:
        pytest.skip("--workers above 1 needs REDIS_URL: covered on the real backend")
    env = {**stack.env, "STACKYARD_DATA_DIR": str(tmp_path), "STACKYARD_EMBEDDED_WORKER": "false"}
    env.pop("DATABASE_URL", None)
    totals = []
    with (
        live_server(tmp_path, env=env, args=("--workers", "2")) as server,
        httpx.Client(base_url=server.url, timeout=5) as http,
    ):
        for _ in range(40):
            assert http.get("/auth/me").status_code == 401
        for _ in range(4):  # several scrapes land on either worker; each must see all 40
            text = http.get("/metrics").text
            line = next(
                row
                for row in text.splitlines()
                if row.startswith("stackyard_requests_total") and 'path="/auth/me"' in row
            )
            totals.append(float(line.rsplit(" ", 1)[1]))
    assert totals == [40.0] * 4
