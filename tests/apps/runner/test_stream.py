"""The live stream and the `stackyard run` client that follows it."""

from __future__ import annotations

import io
import json

import pytest
from litestar.exceptions import WebSocketDisconnect

from apps.runner.client import follow, language_of, stream_url
from tests.apps.runner.helpers import submit
from tests.conftest import sign_up

PROGRAM = "import sys, time\nprint('first', flush=True)\ntime.sleep(0.6)\nprint('second')\n"


def test_output_arrives_live_in_chunks_then_the_result(client, user, eager_runner):
    queued = submit(client, user, PROGRAM)
    protocols = ["bearer", user.token]
    frames = []
    url = f"/runner/executions/{queued['id']}/stream"
    with client.websocket_connect(url, subprotocols=protocols) as socket:
        while True:
            frame = json.loads(socket.receive_text(timeout=10))
            frames.append(frame)
            if frame["type"] == "result":
                break
    chunks = [f["data"] for f in frames if f["type"] == "stdout"]
    assert "".join(chunks) == "first\nsecond\n"
    assert chunks[0] == "first\n", "the first line must arrive before the program ends"
    assert {"type": "status", "status": "running"} in frames
    assert any(f["type"] == "line" and f["line"] == 3 for f in frames)
    assert frames[-1]["execution"]["exit_code"] == 0


def test_the_client_writes_the_stream_and_exits_like_the_program(client, user, eager_runner):
    queued = submit(client, user, "import sys\nprint('out')\nsys.stderr.write('err')\nexit(3)\n")
    out, err = io.StringIO(), io.StringIO()
    url = f"/runner/executions/{queued['id']}/stream"
    with client.websocket_connect(url, subprotocols=["bearer", user.token]) as socket:
        outcome = follow(lambda: socket.receive_text(timeout=10), out, err)
    assert (out.getvalue(), err.getvalue()) == ("out\n", "err")
    assert outcome.exit_code == 3
    assert "status finished, exit code 3" in outcome.summary()


def test_another_users_stream_is_closed_as_not_found(client, user, eager_runner):
    queued = submit(client, user, "print(1)\n")
    stranger = sign_up(client)
    url = f"/runner/executions/{queued['id']}/stream"
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(url, subprotocols=["bearer", stranger.token]) as socket,
    ):
        socket.receive_text(timeout=5)
    assert closed.value.code == 4404


def test_the_cli_knows_languages_and_stream_urls():
    assert language_of("solve.py") == "python"
    assert language_of("solve.js") == "javascript"
    assert language_of("Makefile") is None
    assert stream_url("https://api.example.com/", "abc") == (
        "wss://api.example.com/runner/executions/abc/stream"
    )
    with pytest.raises(ValueError, match="not an http"):
        stream_url("ftp://x", "abc")
