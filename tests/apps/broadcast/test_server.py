"""broadcast-server with real clients: delivery, history, vanishing and slow clients, shutdown."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support import real_services

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]


async def join(url: str, name: str, **kwargs: object) -> ClientConnection:
    connection = await connect(f"{url}?name={name}", open_timeout=5, **kwargs)
    await until(connection, lambda e: e["type"] == "join" and e["from"] == name)
    return connection


async def until(connection: ClientConnection, matches, within: float = 5) -> list[dict]:
    """Every event received up to and including the first that `matches`."""
    seen = []
    async with asyncio.timeout(within):
        while True:
            event = json.loads(await connection.recv())
            seen.append(event)
            if matches(event):
                return seen


async def test_every_client_receives_every_message_exactly_once_in_order(start_server) -> None:
    server = start_server()
    names = [f"c{n}" for n in range(4)]
    clients = [await join(server.url, name) for name in names]
    await asyncio.gather(*(c.send(f"{n} 0") for n, c in zip(names, clients, strict=True)))

    async def chat(name: str, connection: ClientConnection) -> None:
        for i in range(1, 25):
            await connection.send(f"{name} {i}")
        await connection.send(f"{name} done")

    await asyncio.gather(*(chat(n, c) for n, c in zip(names, clients, strict=True)))
    for connection in clients:
        received: dict[str, list[str]] = defaultdict(list)
        done: set[str] = set()
        async with asyncio.timeout(10):
            while done != set(names):
                event = json.loads(await connection.recv())
                if event["type"] != "message":
                    continue
                assert set(event) >= {"type", "from", "text", "ts"}
                sender, _, what = event["text"].partition(" ")
                assert sender == event["from"]
                if what == "done":
                    done.add(sender)
                else:
                    received[sender].append(what)
        assert received == {n: [str(i) for i in range(25)] for n in names}
    for connection in clients:
        await connection.close()


async def test_newcomers_get_the_last_messages_as_history_and_everyone_sees_joins_and_leaves(
    start_server,
) -> None:
    server = start_server("--history", "3")
    alice = await join(server.url, "alice")
    for n in range(5):
        await alice.send(f"m{n}")
    await until(alice, lambda e: e.get("text") == "m4")
    bob = await connect(f"{server.url}some/path?name=bob", open_timeout=5)
    seen = await until(bob, lambda e: e["type"] == "join")
    assert [(e["type"], e["from"], e["text"]) for e in seen] == [
        ("history", "alice", "m2"),
        ("history", "alice", "m3"),
        ("history", "alice", "m4"),
        ("join", "bob", "bob joined"),
    ]
    await until(alice, lambda e: e["type"] == "join" and e["from"] == "bob")
    await bob.close()
    leave = (await until(alice, lambda e: e["type"] == "leave"))[-1]
    assert leave["from"] == "bob"
    await alice.close()


async def test_a_client_killed_mid_stream_does_not_disturb_the_others(start_server) -> None:
    server = start_server()
    watcher = await join(server.url, "watcher")
    victim = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "apps.broadcast.cli", "connect"),
        *("--url", server.url, "--name", "victim"),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await until(watcher, lambda e: e["type"] == "join" and e["from"] == "victim", within=15)
    talker = await join(server.url, "talker")
    drain = asyncio.create_task(until(talker, lambda e: False, within=30))

    async def talk() -> None:
        for n in range(200):
            await talker.send(str(n))
            await asyncio.sleep(0.002)

    chatter = asyncio.create_task(talk())
    await asyncio.sleep(0.1)
    victim.kill()  # SIGKILL: no close frame
    await victim.wait()
    await chatter
    seen = await until(watcher, lambda e: e.get("text") == "199", within=10)
    if not any(e["type"] == "leave" for e in seen):
        seen += await until(watcher, lambda e: e["type"] == "leave", within=5)
    texts = [e["text"] for e in seen if e["type"] == "message"]
    assert texts == [str(n) for n in range(200)]
    assert [e["from"] for e in seen if e["type"] == "leave"] == ["victim"]
    drain.cancel()
    await talker.close()
    await watcher.close()


async def test_a_slow_client_is_closed_with_1013_while_the_others_keep_up(start_server) -> None:
    server = start_server("--max-buffer", "65536", "--history", "0", "--ping-interval", "30")
    steady = await join(server.url, "steady")
    # A tiny receive buffer, and reading paused: this client takes nothing until resumed.
    host, port = server.url.removeprefix("ws://").strip("/").split(":")
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((host, int(port)))
    slow = await join(server.url, "slow", sock=raw)
    slow.transport.pause_reading()
    sender = await join(server.url, "sender")
    await until(steady, lambda e: e["type"] == "join" and e["from"] == "sender")
    last = "1999 "
    keeping_up = asyncio.create_task(until(steady, lambda e: e["text"].startswith(last), 30))
    echoes = asyncio.create_task(until(sender, lambda e: e["text"].startswith(last), 30))
    text = secrets.token_urlsafe(3000)  # incompressible, whatever the extensions
    for n in range(2000):
        await sender.send(f"{n} {text}")
        if n % 20 == 0:
            await asyncio.sleep(0.001)
    seen = await keeping_up
    assert len([e for e in seen if e["type"] == "message"]) == 2000
    await echoes
    slow.transport.resume_reading()
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(10):
            while True:
                await slow.recv()
    assert slow.close_code == 1013
    assert "slow consumer" in (slow.close_reason or "")
    await steady.close()
    await sender.close()


async def test_shutdown_closes_every_client_with_1001_and_exits_promptly(start_server) -> None:
    server = start_server()
    clients = [await join(server.url, f"c{n}") for n in range(3)]
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    for connection in clients:
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                while True:
                    await connection.recv()
        assert connection.close_code == 1001
    assert await asyncio.to_thread(server.process.wait, 5) == 0
    assert time.monotonic() - started < 3  # the grace is 1 s in tests


async def test_a_port_in_use_exits_1_with_a_message(start_server) -> None:
    server = start_server()
    port = server.url.rsplit(":", 1)[1].strip("/")
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "apps.broadcast.cli", "start", "--port", port],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 1
    assert "cannot serve" in result.stderr


async def test_two_servers_on_redis_deliver_to_each_others_clients(start_server) -> None:
    if real_services.unreachable():
        pytest.skip("real Redis unreachable")
    index = real_services.claim_redis_index()
    try:
        redis = f"{real_services.REDIS_BASE}/{index}"
        room = f"room-{uuid.uuid4().hex[:8]}"
        one = start_server("--redis", redis, "--channel", room)
        two = start_server("--redis", redis, "--channel", room)
        alice = await join(one.url, "alice")
        bob = await join(two.url, "bob")
        await until(alice, lambda e: e["type"] == "join" and e["from"] == "bob")
        await alice.send("hello from one")
        await bob.send("hello from two")
        both = {"hello from one", "hello from two"}
        for connection in (alice, bob):
            texts: set[str] = set()
            await until(connection, lambda e, texts=texts: texts.add(e["text"]) or texts >= both)
        await bob.send("/who")
        who = await until(bob, lambda e: e["from"] == "server")
        assert who[-1]["text"] == "online: alice, bob"
        carol = await connect(f"{two.url}?name=carol", open_timeout=5)
        history = await until(carol, lambda e: e["type"] == "join")
        assert sorted(e["text"] for e in history if e["type"] == "history") == [
            "hello from one",
            "hello from two",
        ]
        for connection in (alice, bob, carol):
            await connection.close()
    finally:
        real_services.release_redis_index(index)
