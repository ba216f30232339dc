"""Redirects/second of `GET /{code}` (cached) against a bare Litestar handler's fixed 302.

Both are served the same way (granian, one worker; the stackyard side through
`apps.gateway:create_app_from_env` with STACKYARD_APPS=shortener, as `stackyard serve --app
shortener` runs it), one after the other in the same run, rounds interleaved; wrk generates
the load from this machine. After the run the server is stopped cleanly and the visits it
counted are read from the database, to show that batching lost none. Run:

    .venv/bin/python benchmarks/redirect.py [--duration 10] [--rounds 2] [--real]

`--real` keeps DATABASE_URL and REDIS_URL from the environment (Postgres + Redis); without
it the embedded defaults are used. Writes benchmarks/results/redirect-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from litestar import Litestar, Response, get
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TARGET = "https://example.com/benchmark/target"
console = Console()


def create_baseline_app() -> Litestar:
    """A bare Litestar app whose `GET /{code}` answers a fixed 302: the ceiling to compare to."""

    @get("/{code:str}", sync_to_thread=False)
    def redirect(code: str) -> Response[bytes]:
        return Response(
            b"",
            status_code=302,
            headers={"Location": TARGET, "Cache-Control": "private, max-age=90"},
        )

    return Litestar(route_handlers=[redirect], logging_config=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(target: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--factory", target,
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning",
    ]  # fmt: skip


def start(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        server_command(target, port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/health", timeout=2)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"{target} did not come up")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM: a clean shutdown, in which the server saves the visits it counted."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wrk(url: str, duration: int, connections: int) -> dict[str, float]:
    """Requests/s, p99 latency (ms) and completed requests, as wrk reports them."""
    command = ["wrk", "-t1", f"-c{connections}", "--latency"]
    warm_up = subprocess.run(
        [*command, "-d2s", url], capture_output=True, text=True, check=True
    ).stdout
    out = subprocess.run(
        [*command, f"-d{duration}s", url], capture_output=True, text=True, check=True
    ).stdout
    warm_done = re.search(r"(\d+) requests in", warm_up)
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    done = re.search(r"(\d+) requests in", out)
    if not rate or not p99 or not done:
        raise SystemExit(f"cannot read wrk output:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return {
        "rps": float(rate.group(1)),
        "p99_ms": float(p99.group(1)) * scale,
        "requests": float(done.group(1)),
        "warm_up_requests": float(warm_done.group(1)) if warm_done else 0.0,
    }


async def visits_of(code: str) -> int:
    from sqlalchemy import select

    from apps.kernel import db
    from apps.kernel.cache import close_redis, get_redis
    from apps.shortener.models import Link
    from apps.shortener.visits import flush_buffer

    try:
        await flush_buffer(get_redis(), db.session)  # what beat does, for the real backend
        async with db.session() as session:
            return int(await session.scalar(select(Link.visits).where(Link.code == code)) or 0)
    finally:
        await close_redis()
        await db.dispose_engines()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--real", action="store_true", help="use DATABASE_URL and REDIS_URL")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (make system-deps installs it)")
    data_dir = Path(tempfile.mkdtemp(prefix="stackyard-bench-redirect-"))
    dropped = set() if args.real else {"DATABASE_URL", "REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        STACKYARD_DATA_DIR=str(data_dir),
        STACKYARD_APPS="shortener",
        LOG_LEVEL="WARNING",
        STACKYARD_EMBEDDED_WORKER="false",
        PYTHONPATH=str(ROOT),
    )
    os.environ.clear()
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "-m", "apps.cli", "migrate"], env=env, check=True, capture_output=True
    )
    ours: list[dict[str, float]] = []
    bare: list[dict[str, float]] = []
    code = ""
    for round_number in range(args.rounds):
        console.print(f"round {round_number + 1}/{args.rounds}: stackyard")
        process, url = start("apps.gateway:create_app_from_env", env)
        try:
            if not code:
                created = httpx.post(f"{url}/shortener/links", json={"url": TARGET})
                created.raise_for_status()
                code = created.json()["code"]
            probe = httpx.get(f"{url}/{code}")
            assert probe.status_code == 302 and probe.headers["location"] == TARGET, probe
            ours.append(wrk(f"{url}/{code}", args.duration, args.connections))
        finally:
            stop(process)
        console.print(f"round {round_number + 1}/{args.rounds}: bare Litestar")
        process, url = start("benchmarks.redirect:create_baseline_app", env)
        try:
            bare.append(wrk(f"{url}/{code}", args.duration, args.connections))
        finally:
            stop(process)
    counted = asyncio.run(visits_of(code))
    served = sum(run["requests"] + run["warm_up_requests"] for run in ours) + 1  # + the probe
    ours_rps = statistics.median(run["rps"] for run in ours)
    bare_rps = statistics.median(run["rps"] for run in bare)
    summary = {
        "measured_at": datetime.now(UTC).isoformat(),
        "backend": "real" if args.real else "embedded",
        "duration_s": args.duration,
        "connections": args.connections,
        "rounds": {"stackyard": ours, "bare": bare},
        "stackyard_rps": ours_rps,
        "bare_rps": bare_rps,
        "ratio": round(ours_rps / bare_rps, 3),
        "stackyard_p99_ms": statistics.median(run["p99_ms"] for run in ours),
        "bare_p99_ms": statistics.median(run["p99_ms"] for run in bare),
        "visits_counted": counted,
        "redirects_completed": served,
        "load_average": os.getloadavg()[0],
    }
    table = Table("", "req/s (median)", "p99 ms", "ratio")
    table.add_row("GET /{code} stackyard", f"{ours_rps:,.0f}", f"{summary['stackyard_p99_ms']:.2f}",
                  f"{summary['ratio']:.3f}")  # fmt: skip
    table.add_row(
        "fixed 302, bare Litestar", f"{bare_rps:,.0f}", f"{summary['bare_p99_ms']:.2f}", ""
    )
    console.print(table)
    console.print(
        f"visits counted in the database: {counted:,} "
        f"(wrk saw {served:,.0f} redirects complete, warm-ups and probe included; at most "
        f"{args.connections} per run may be cut off in flight)"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = RESULTS / f"redirect-{stamp}.json"
    path.write_text(json.dumps(summary, indent=2))
    console.print(f"wrote {path}")
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
