"""The runner behind a real server and a real Celery worker (the embedded default).

`stackyard run FILE` streams a program's output, and 20 executions at once keep the machine
responsive: sandboxes run niced, never more at once than the core count, and /health stays
fast while they run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from apps.runner.config import RunnerConfig
from apps.runner.sandbox import SandboxUnavailable, select_sandbox
from apps.runner.sandbox.bubblewrap import uid_processes
from tests.support.servers import LiveServer, live_server

BURN = """import time
start = time.process_time()
while time.process_time() - start < 0.25:
    pass
print("done")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("runner-live")
    saved = os.environ.get("STACKYARD_DATA_DIR")
    os.environ["STACKYARD_DATA_DIR"] = str(data_dir)
    try:
        select_sandbox()
    except SandboxUnavailable as exc:
        pytest.skip(f"no sandbox on this machine: {exc}")
    finally:
        if saved is None:
            os.environ.pop("STACKYARD_DATA_DIR", None)
        else:
            os.environ["STACKYARD_DATA_DIR"] = saved
    with live_server(data_dir, env={"STACKYARD_EMBEDDED_WORKER": "true"}) as live:
        yield live


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    email = f"runner-{uuid.uuid4().hex[:10]}@example.com"
    password = "a long enough passphrase"
    body = {"email": email, "password": password, "display_name": "Runner"}
    assert httpx.post(f"{server.url}/auth/signup", json=body).status_code == 201
    login = httpx.post(f"{server.url}/auth/login", json={"email": email, "password": password})
    return str(login.json()["access_token"])


def test_stackyard_run_streams_the_output_and_exits_like_the_program(server, token, tmp_path):
    program = tmp_path / "hello.py"
    program.write_text("import sys\nprint('hello', input())\nsys.exit(3)\n")
    given = tmp_path / "input.txt"
    given.write_text("world\n")
    result = subprocess.run(
        [sys.executable, "-m", "apps.cli", "run", str(program), "--stdin", str(given),
         "--server", server.url, "--token", token, "--wall", "10"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.stdout == "hello world\n", result.stderr
    assert result.returncode == 3
    assert "status finished, exit code 3" in result.stderr


def finished(http: httpx.Client, execution_id: str) -> bool:
    status = http.get(f"/runner/executions/{execution_id}").json()["status"]
    return status not in {"queued", "running"}


def test_twenty_executions_at_once_keep_the_server_responsive(server, token):
    headers = {"Authorization": f"Bearer {token}"}
    body = {"language": "python", "source": BURN, "limits": {"cpu_time_s": 2, "wall_time_s": 20}}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        ids = []
        for _ in range(20):
            response = http.post("/runner/executions", json=body)
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        config = RunnerConfig.from_env()
        slots = range(config.uid_base, config.uid_base + config.concurrency)
        latencies, most_at_once = [], 0
        pending = set(ids)
        deadline = time.monotonic() + 90
        while (len(latencies) < 50 or pending) and time.monotonic() < deadline:
            started = time.perf_counter()
            assert http.get("/health").status_code == 200
            latencies.append(time.perf_counter() - started)
            most_at_once = max(most_at_once, sum(1 for uid in slots if uid_processes(uid)))
            if pending and len(latencies) % 5 == 0:
                pending = {i for i in pending if not finished(http, i)}
            time.sleep(0.05)
        final = [http.get(f"/runner/executions/{i}").json() for i in ids]
    p95 = statistics.quantiles(latencies, n=20)[-1]
    assert p95 < 0.1, f"p95 of /health was {p95 * 1000:.0f} ms"
    assert 1 <= most_at_once <= (os.cpu_count() or 1)
    assert [f["status"] for f in final] == ["finished"] * 20, final
    assert all(f["stdout"] == "done\n" for f in final)


def test_queued_executions_report_their_position(server, token):
    headers = {"Authorization": f"Bearer {token}"}
    body = {"language": "python", "source": "print(1)", "limits": {"wall_time_s": 5}}
    positions = [
        httpx.post(f"{server.url}/runner/executions", json=body, headers=headers).json()
        for _ in range(3)
    ]
    assert all(p["status"] == "queued" for p in positions)
    assert positions[2]["queue_position"] >= positions[0]["queue_position"]
