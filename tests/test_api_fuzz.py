"""Schemathesis over the whole OpenAPI schema: no 5xx, and every response matches the schema.

It runs against a real `stackyard serve` on each backend (SQLite and Postgres differ: only
Postgres enforces column lengths), signed in, so guarded operations are reached too.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.apps.weather.fake_upstream import start_fake_upstream
from tests.conftest import promote
from tests.support.servers import LiveServer, live_server

pytestmark = pytest.mark.slow

# Operations that would sign the fuzzing account out and stop it reaching the rest.
SIGNING_OUT = ("/auth/logout", "/auth/sessions/{session_id}", "/auth/password/reset")


@pytest.fixture(scope="session")
def fuzz_server(stack, tmp_path_factory) -> Iterator[LiveServer]:
    # Third-party APIs are served by the weather tests' local fake, never the internet.
    fake, upstream = start_fake_upstream()
    providers = ("VISUAL_CROSSING_BASE_URL", "OPEN_METEO_BASE_URL", "OPEN_METEO_GEOCODING_URL")
    env = {
        **stack.env,
        "STACKYARD_EMBEDDED_WORKER": "false",
        **dict.fromkeys(providers, fake.url),
        # Generated inputs come from one client: keep its rate limits out of the way.
        "WEATHER_RATE_LIMIT": "100000",
    }
    try:
        with live_server(stack.data_dir, env=env, migrate=False) as server:
            yield server
    finally:
        upstream.shutdown()
        upstream.server_close()


@pytest.fixture(scope="session")
def fuzz_headers(fuzz_server: LiveServer) -> dict[str, str]:
    email = f"fuzz-{uuid.uuid4().hex[:10]}@example.com"
    password = "a long enough passphrase"
    signup = httpx.post(
        f"{fuzz_server.url}/auth/signup",
        json={"email": email, "password": password, "display_name": "Fuzz"},
    )
    assert signup.status_code == 201, signup.text
    promote(email)  # an admin reaches the admin-only operations too
    login = httpx.post(f"{fuzz_server.url}/auth/login", json={"email": email, "password": password})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_no_server_errors_and_responses_match_the_schema(fuzz_server, fuzz_headers, tmp_path):
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{fuzz_server.url}/schema/openapi.json",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--max-examples",
        "10",
        "--seed",
        "20261204",
        "--generation-deterministic",
        "--header",
        f"Authorization:{fuzz_headers['Authorization']}",
        # One worker: schemathesis' threads trip CPython's AST recursion check now and then.
        "--workers",
        "1",
        "--continue-on-failure",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    for path in SIGNING_OUT:
        command += ["--exclude-path", path]
    # Generated programs would run in real sandboxes (slots shared with the runner's own tests,
    # and seconds of CPU each); the runner's input validation is tested in tests/apps/runner.
    command += ["--exclude-path-regex", "^/runner/"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    server_errors = "\n".join(fuzz_server.errors()[:3])
    assert result.returncode == 0, (
        result.stdout[-8000:] + result.stderr[-2000:] + "\nserver errors:\n" + server_errors
    )
