"""Broadcast fan-out: broadcast-server against a bare websockets server using broadcast().

Both servers run on this machine with 1,000 connected clients (990 raw sockets that drain
and count bytes, 10 probe clients that parse every frame and time it) and compression off.
Phase 1 sends messages as fast as the probes keep up (window of 20) and reports messages/s
fanned out; phase 2 sends at a fixed rate and reports p50/p99 delivery latency. The figures
are printed as ratios broadcast-server / baseline.

    .venv/bin/python benchmarks/broadcast.py [--clients 1000] [--messages 2000] [--rate 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

PROBES = 10
WINDOW = 20


async def baseline_server() -> None:
    """The bare server: every text frame becomes the same JSON and goes to broadcast()."""
    from websockets.asyncio.server import broadcast, serve

    async def handler(connection) -> None:
        async for frame in connection:
            event = {"type": "message", "from": "x", "text": frame, "ts": time.time()}
            broadcast(server.connections, json.dumps(event))

    server = await serve(handler, "127.0.0.1", 0, compression=None, ping_interval=None)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on ws://127.0.0.1:{port}/", flush=True)
    await asyncio.Future()


class Drain(asyncio.Protocol):
    """A client that completes the handshake and then only counts bytes."""

    def __init__(self, ready: asyncio.Future) -> None:
        self.ready = ready
        self.received = 0
        self.head = b""
        self.lost = False

    def data_received(self, data: bytes) -> None:
        if not self.ready.done():
            self.head += data
            if b"\r\n\r\n" in self.head:
                ok = self.head.startswith(b"HTTP/1.1 101")
                self.ready.set_result(ok)
            return
        self.received += len(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.ready.done():
            self.ready.set_result(False)


async def open_drain(host: str, port: int, n: int) -> tuple[asyncio.Transport, Drain]:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future = loop.create_future()
    transport, protocol = await loop.create_connection(lambda: Drain(ready), host, port)
    transport.write(
        (
            f"GET /?name=d{n} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    if not await asyncio.wait_for(ready, 10):
        raise RuntimeError("handshake refused")
    return transport, protocol  # type: ignore[return-value]


async def measure(url: str, clients: int, messages: int, rate: float) -> dict[str, float]:
    host, port = url.removeprefix("ws://").strip("/").split(":")
    drains = []
    for n in range(clients - PROBES - 1):
        drains.append(await open_drain(host, int(port), n))
    probes = [await connect(f"{url}?name=p{n}", compression=None) for n in range(PROBES)]
    sender = await connect(f"{url}?name=sender", compression=None, max_queue=None)
    latencies: list[float] = []
    counts = [0] * PROBES
    progress = asyncio.Event()

    async def probe(index: int, connection, wanted: str) -> None:
        async for frame in connection:
            event = json.loads(frame)
            if event.get("type") != "message":
                continue
            sent, _, tag = event["text"].partition(" ")
            if tag != wanted:
                continue
            latencies.append(time.monotonic() - float(sent))
            counts[index] += 1
            progress.set()
            if counts[index] == wanted_total[wanted]:
                return

    async def drain_sender() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for _ in sender:
                pass

    wanted_total = {"burst": messages, "steady": int(rate * 5)}
    drainer = asyncio.create_task(drain_sender())
    # Phase 1: as fast as delivery allows.
    tasks = [asyncio.create_task(probe(i, p, "burst")) for i, p in enumerate(probes)]
    started = time.monotonic()
    for n in range(messages):
        while n - min(counts) > WINDOW:
            progress.clear()
            await progress.wait()
        await sender.send(f"{time.monotonic()} burst")
    await asyncio.wait_for(asyncio.gather(*tasks), 120)
    elapsed = time.monotonic() - started
    burst_p99 = statistics.quantiles(latencies, n=100)[98]
    # Phase 2: a steady rate well under both servers' capacity.
    latencies.clear()
    counts[:] = [0] * PROBES
    tasks = [asyncio.create_task(probe(i, p, "steady")) for i, p in enumerate(probes)]
    for _ in range(wanted_total["steady"]):
        await sender.send(f"{time.monotonic()} steady")
        await asyncio.sleep(1 / rate)
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    quantiles = statistics.quantiles(latencies, n=100)
    drainer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await drainer
    closed = [d for _, d in drains if d.lost]
    for transport, _ in drains:
        transport.abort()
    for connection in (*probes, sender):
        await connection.close()
    return {
        "messages_per_s": messages / elapsed,
        "deliveries_per_s": messages * clients / elapsed,
        "burst_p99_ms": burst_p99 * 1000,
        "p50_ms": quantiles[49] * 1000,
        "p99_ms": quantiles[98] * 1000,
        "drains_closed_by_server": len(closed),
    }


def start(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return process, line.removeprefix("listening on ").strip()


def run(command: list[str], args: argparse.Namespace) -> dict[str, float]:
    process, url = start(command)
    try:
        return asyncio.run(measure(url, args.clients, args.messages, args.rate))
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        asyncio.run(baseline_server())
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    ours = run(
        [
            sys.executable,
            "-m",
            "apps.broadcast.cli",
            "start",
            "--port",
            "0",
            "--history",
            "0",
            "--ping-interval",
            "600",
        ],
        args,
    )
    baseline = run([sys.executable, __file__, "--serve-baseline"], args)
    print(f"{args.clients} clients, {args.messages} burst messages, steady {args.rate:g} msg/s")
    print(f"{'':22}{'broadcast-server':>18}{'websockets bare':>18}{'ratio':>8}")
    for key in ("messages_per_s", "deliveries_per_s", "burst_p99_ms", "p50_ms", "p99_ms"):
        ratio = ours[key] / baseline[key] if baseline[key] else float("nan")
        print(f"{key:22}{ours[key]:>18.1f}{baseline[key]:>18.1f}{ratio:>8.2f}")
    closed = (ours["drains_closed_by_server"], baseline["drains_closed_by_server"])
    print(f"clients the server closed as too slow (ours, baseline): {closed}")


if __name__ == "__main__":
    main()
