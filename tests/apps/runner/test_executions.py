"""The runner API: submit, follow the running line, results, cancel, isolation, refusals."""

from __future__ import annotations

import pytest

from tests.apps.runner.helpers import QUICK, done, submit, wait_for
from tests.conftest import sign_up

CONTRACT = {
    "id", "status", "started_at", "running_for_s", "current_line", "exit_code", "signal",
    "stdout", "stderr", "cpu_time_s", "wall_time_s", "peak_memory_bytes", "limit_hit",
}  # fmt: skip


def test_a_program_runs_and_its_outcome_is_reported(client, user, eager_runner):
    queued = submit(client, user, "name = input()\nprint('hello', name)\n", stdin="stackyard\n")
    assert queued["status"] == "queued"
    assert queued["queue_position"] >= 0
    body = wait_for(client, user, queued["id"], done)
    assert set(body) >= CONTRACT
    assert body["status"] == "finished"
    assert body["stdout"] == "hello stackyard\n"
    assert (body["exit_code"], body["signal"], body["limit_hit"]) == (0, None, None)
    assert body["started_at"] and body["wall_time_s"] > 0 and body["peak_memory_bytes"] > 0


def test_the_line_running_now_is_visible_while_it_runs(client, user, eager_runner):
    source = "import time\nwhile True:\n    time.sleep(0.05)\n"
    queued = submit(client, user, source, limits={"cpu_time_s": 2, "wall_time_s": 2})
    running = wait_for(client, user, queued["id"], lambda b: b["current_line"] is not None)
    assert running["status"] == "running"
    assert running["current_line"] in (2, 3)
    assert running["running_for_s"] > 0
    final = wait_for(client, user, queued["id"], done)
    assert final["status"] == "killed"
    assert final["limit_hit"] == "wall_time"
    assert final["current_line"] is None


def test_an_infinite_loop_is_killed_for_cpu_time(client, user, eager_runner):
    # A generous wall time: on a busy machine the niced sandbox gets its CPU second slowly.
    limits = {"cpu_time_s": 1, "wall_time_s": 15}
    queued = submit(client, user, "while True:\n    pass\n", limits=limits)
    body = wait_for(client, user, queued["id"], done, timeout=20)
    assert (body["status"], body["limit_hit"]) == ("killed", "cpu_time")


def test_cancelling_a_running_program_kills_it(client, user, eager_runner):
    queued = submit(client, user, "import time\ntime.sleep(30)\n", limits={"wall_time_s": 20})
    wait_for(client, user, queued["id"], lambda b: b["status"] == "running")
    response = client.delete(f"/runner/executions/{queued['id']}", headers=user.headers)
    assert response.status_code == 202, response.text
    body = wait_for(client, user, queued["id"], done, timeout=5)
    assert body["status"] == "killed"
    assert body["error"] == "cancelled by its owner"
    assert body["wall_time_s"] < 5


def test_each_user_sees_only_their_own_executions(client, user, eager_runner):
    queued = submit(client, user, "print('mine')\n")
    stranger = sign_up(client)
    url = f"/runner/executions/{queued['id']}"
    assert client.get(url, headers=stranger.headers).status_code == 404
    assert client.delete(url, headers=stranger.headers).status_code == 404
    assert client.get(url).status_code == 401
    wait_for(client, user, queued["id"], done)


def test_submitting_requires_signing_in(client):
    response = client.post("/runner/executions", json={"language": "python", "source": "1"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"limits": {"cpu_time_s": 16}}, "limits.cpu_time_s"),
        ({"limits": {"wall_time_s": 21}}, "limits.wall_time_s"),
        ({"limits": {"memory_bytes": 513 * 1024 * 1024}}, "limits.memory_bytes"),
        ({"limits": {"processes": 61}}, "limits.processes"),
        ({"source": "x" * (64 * 1024 + 1)}, "source"),
        ({"source": "é" * (40 * 1024)}, "source"),
        ({"source": ""}, "source"),
        ({"language": "ruby"}, "language"),
    ],
)
def test_bad_submissions_are_refused_naming_the_field(client, user, eager_runner, body, field):
    payload = {"language": "python", "source": "print(1)", "limits": QUICK, **body}
    response = client.post("/runner/executions", json=payload, headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field


def test_without_a_sandbox_submissions_are_refused_with_the_reason(client, user, monkeypatch):
    monkeypatch.setenv("RUNNER_BACKEND", "docker")
    monkeypatch.setenv("RUNNER_DOCKER", "/nonexistent/docker")
    response = client.post(
        "/runner/executions", json={"language": "python", "source": "1"}, headers=user.headers
    )
    assert response.status_code == 503, response.text
    assert "docker" in response.json()["detail"]


@pytest.mark.parametrize(
    ("source", "limit", "extra"),
    [
        # Enough memory that the process fence, not the memory one, stops the bomb first.
        (
            "import os\nwhile True:\n    os.fork()\n",
            "processes",
            {"memory_bytes": 512 << 20, "processes": 20},
        ),
        # A CPU budget reclaim at the memory limit cannot use up first on a loaded machine.
        (
            "hoard = []\nwhile True:\n    hoard.append(bytearray(10 ** 7))\n",
            "memory",
            {"cpu_time_s": 5, "wall_time_s": 10},
        ),
        ("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", "output", {}),
    ],
    ids=["fork-bomb", "memory-bomb", "output-flood"],
)
def test_hostile_programs_are_contained_and_the_server_stays_healthy(
    client, user, eager_runner, source, limit, extra
):
    limits = {"cpu_time_s": 2, "wall_time_s": 3, **extra}
    queued = submit(client, user, source, limits=limits)
    body = wait_for(client, user, queued["id"], done)
    assert body["limit_hit"] == limit, body
    assert client.get("/health").status_code == 200
    after = submit(client, user, "print('fine')\n")
    assert wait_for(client, user, after["id"], done)["stdout"] == "fine\n"


def test_javascript_runs_where_node_can_be_confined(client, user, eager_runner):
    from apps.runner.sandbox import select_sandbox

    reason = select_sandbox().unsupported("javascript")
    response = client.post(
        "/runner/executions",
        json={"language": "javascript", "source": "console.log(6 * 7)", "limits": QUICK},
        headers=user.headers,
    )
    if reason:
        assert response.status_code == 503
        assert "javascript" in response.json()["detail"]
        return
    assert response.status_code == 202, response.text
    body = wait_for(client, user, response.json()["id"], done)
    assert (body["status"], body["stdout"], body["current_line"]) == ("finished", "42\n", None)
