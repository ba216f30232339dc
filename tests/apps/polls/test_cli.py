"""The terminal client: handlers driven by a fake stream, backoff, and one real end-to-end run."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from rich.console import Console
from typer.testing import CliRunner

from apps.polls.cli import cli, watch_poll
from apps.polls.client import (
    BadServerURL,
    LiveResults,
    PollBoard,
    WatchOptions,
    device_token,
    follow,
    live_url,
)
from tests.conftest import Stack

pytestmark = pytest.mark.timeout(60)


def results(version: int, votes: list[int | None], **fields: Any) -> dict[str, Any]:
    visible = votes[0] is not None
    return {
        "poll_id": "p",
        "status": "open",
        "visible": visible,
        "hidden_until": None if visible else "vote",
        "voters": sum(v or 0 for v in votes) if visible else None,
        "options": [
            {"number": n, "text": text, "votes": v}
            for n, (text, v) in enumerate(zip(["Tea", "Coffee"], votes, strict=True), start=1)
        ],
        "my_choices": None,
        "version": version,
        **fields,
    }


def snapshot(version: int, votes: list[int | None]) -> str:
    poll = {"question": "Tea or coffee?"}
    return json.dumps({"type": "snapshot", "poll": poll, "results": results(version, votes)})


def pushed(kind: str, version: int, votes: list[int | None], **fields: Any) -> str:
    return json.dumps({"type": kind, "results": results(version, votes, **fields)})


async def stream(frames: list[str]) -> AsyncIterator[str]:
    for frame in frames:
        yield frame


def drawn(board: PollBoard) -> str:
    console = Console(file=io.StringIO(), width=80, record=True)
    console.print(board.render())
    return console.export_text()


def test_the_chart_is_drawn_from_each_pushed_message() -> None:
    board, live = PollBoard(), LiveResults(WatchOptions(url="ws://unused"))
    redraws: list[str] = []
    follow(board, live, lambda: redraws.append(drawn(board)))
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    frames = [
        snapshot(1, [None, None]),
        pushed("tally", 3, [1, 2], my_choices=[2]),
        json.dumps({"type": "ping", "ts": 1}),
        pushed("tally", 2, [1, 1]),  # late: older than what is shown
        pushed("closed", 4, [1, 3], status="closed", closed_at="2030-01-01T00:00:00Z"),
        pushed("tally", 5, [9, 9]),  # after the close: not read
    ]
    asyncio.run(live.consume(stream(frames), send))

    assert [json.loads(s)["type"] for s in sent] == ["subscribe", "pong"]
    assert live.finished.is_set()
    assert "results hidden until vote" in redraws[0] and "Tea or coffee?" in redraws[0]
    assert "2 (67%)" in redraws[1] and "✓ 2. Coffee" in redraws[1]
    assert "2 (67%)" in redraws[2], "a late tally replaced a newer one"
    assert "closed · 4 voters" in redraws[3] and "3 (75%)" in redraws[3]
    assert len(redraws) == 4


def test_frames_that_are_not_messages_are_ignored() -> None:
    live = LiveResults(WatchOptions(url="ws://unused"))
    seen: list[dict[str, Any]] = []
    live.on("*", seen.append)
    for frame in ["not json", "[1, 2]", '{"no": "type"}', '{"type": "tally", "results": {}}']:
        live.dispatch(frame)
    assert seen == [{"type": "tally", "results": {}}]


def test_the_client_reconnects_with_growing_backoff() -> None:
    options = WatchOptions(url="ws://127.0.0.1:9/", backoff_initial=0.05, backoff_max=0.2)
    live = LiveResults(options)
    notes: list[str] = []
    live.on("status", lambda m: notes.append(m["note"]))

    async def run() -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.0):
                await live.run()

    asyncio.run(run())
    waits = [float(n.split("reconnecting in ")[1].split(" s")[0]) for n in notes]
    assert len(waits) >= 4 and all("cannot connect" in n for n in notes)
    assert waits[0] <= 0.1 and max(waits) >= 0.15 and waits[-1] <= 0.25


def test_live_urls_and_device_tokens(tmp_path: Any) -> None:
    assert live_url("https://polls.example/api/", "abc", "d e") == (
        "wss://polls.example/api/polls/abc/live?device=d%20e"
    )
    with pytest.raises(BadServerURL):
        live_url("ftp://x", "abc", None)
    path = tmp_path / "device"
    token = device_token(path)
    assert len(token) >= 30 and device_token(path) == token
    assert path.stat().st_mode & 0o777 == 0o600


# ---- end to end: the CLI against a real server ---------------------------------------------


@pytest.fixture
def server(stack: Stack) -> Iterator[str]:
    if stack.real:
        pytest.skip("one end-to-end run is enough: it runs on the embedded stack")
    from apps.gateway import create_app

    config = uvicorn.Config(create_app(["polls"]), host="127.0.0.1", port=0, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    port = running.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


def test_watch_draws_votes_from_other_terminals_and_exits_at_the_close(server: str) -> None:
    import httpx

    email = f"cli-{time.time_ns()}@example.com"
    account = {"email": email, "password": "a long enough passphrase", "display_name": "Cli"}
    assert httpx.post(f"{server}/auth/signup", json=account).status_code == 201
    token = httpx.post(f"{server}/auth/login", json=account).json()["access_token"]
    runner = CliRunner()
    common = ["--server", server]
    created = runner.invoke(
        cli, ["create", "Tea or coffee?", "-o", "Tea", "-o", "Coffee", *common, "--token", token]
    )
    assert created.exit_code == 0, created.output
    poll_id = created.output.strip()

    screen = io.StringIO()
    outcome: list[int] = []
    options = WatchOptions(url=live_url(server, poll_id, "watcher-device"))
    watcher = threading.Thread(
        target=lambda: outcome.append(asyncio.run(watch_poll(options, Console(file=screen))))
    )
    watcher.start()
    time.sleep(0.5)  # let it subscribe; the votes below arrive as pushes either way
    for device, choice in [("device-one-1", "coffee"), ("device-two-2", "2"), ("dev-three-3", "1")]:
        voted = runner.invoke(cli, ["vote", poll_id, choice, *common, "--device", device])
        assert voted.exit_code == 0 and "voted: " in voted.output, voted.output
    closed = runner.invoke(cli, ["close", poll_id, *common, "--token", token])
    assert closed.exit_code == 0 and "closed" in closed.output
    watcher.join(timeout=15)
    assert outcome == [0]
    final = screen.getvalue()
    assert "Tea or coffee?" in final and "closed · 3 voters" in final
    assert "2 (67%)" in final and "1 (33%)" in final
