"""A small asyncio TCP proxy per network link, adding Toxiproxy's toxics: latency ± jitter,
loss (a chunk pays a retransmission timeout), bandwidth, down.

Each chunk is released `latency ± jitter` after it arrived (a delay line, so a large response
streams at full speed after one delay instead of paying it per chunk), in the response
direction: a round trip through a link pays its latency once. Run as
`python -m apps.cdn.latency links.json`, where the file holds a list of
`{"name", "listen": "host:port", "upstream": "host:port", "link": {...Link}}`.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

from apps.cdn.config import Link

RETRANSMIT_TIMEOUT_S = 0.2
CHUNK = 64 * 1024


@dataclass(frozen=True)
class ProxySpec:
    name: str
    listen: str
    upstream: str
    link: Link


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def delay_for(link: Link, rng: random.Random) -> float:
    """Seconds one chunk waits on this link: latency ± uniform jitter, plus any loss penalty."""
    delay = link.latency_ms + rng.uniform(-link.jitter_ms, link.jitter_ms)
    seconds = max(0.0, delay) / 1000
    if link.loss and rng.random() < link.loss:
        seconds += RETRANSMIT_TIMEOUT_S
    return seconds


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    link: Link | None,
    rng: random.Random,
) -> None:
    """Copy reader to writer; with a link, through a delay line and a bandwidth limit."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def release() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            if link is not None and link.bandwidth_kbps:
                await asyncio.sleep(len(data) * 8 / (link.bandwidth_kbps * 1000))
            await writer.drain()

    releaser = asyncio.create_task(release())
    try:
        while True:
            data = await reader.read(CHUNK)
            delay = delay_for(link, rng) if link is not None else 0.0
            await queue.put((time.monotonic() + delay, data))
            if not data:
                break
        await releaser
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        releaser.cancel()
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            pass


async def serve(spec: ProxySpec, seed: int = 0) -> asyncio.Server:
    rng = random.Random(f"{seed}:{spec.name}")
    up_host, up_port = _split(spec.upstream)

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if spec.link.down:
            client_w.close()
            return
        try:
            server_r, server_w = await asyncio.open_connection(up_host, up_port)
        except OSError:
            client_w.close()  # the upstream is gone: the client sees a closed connection
            return
        try:
            await asyncio.gather(
                _pipe(client_r, server_w, None, rng), _pipe(server_r, client_w, spec.link, rng)
            )
        finally:
            for w in (server_w, client_w):
                w.close()

    host, port = _split(spec.listen)
    return await asyncio.start_server(handle, host, port, reuse_address=True)


async def run(specs: list[ProxySpec]) -> None:
    servers = [await serve(spec) for spec in specs]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    for server in servers:
        server.close()


def load_specs(path: Path) -> list[ProxySpec]:
    raw = json.loads(path.read_text())
    return [
        ProxySpec(
            item["name"], item["listen"], item["upstream"], msgspec.convert(item["link"], Link)
        )
        for item in raw
    ]


if __name__ == "__main__":
    asyncio.run(run(load_specs(Path(sys.argv[1]))))
