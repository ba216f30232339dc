"""Requests/second of `GET /blog/articles?page_size=20` over 10,000 articles, as a ratio.

The baseline is a bare Litestar handler returning the same JSON from memory, served the same
way (same server, one worker); wrk generates the load from this machine. Run:

    .venv/bin/python benchmarks/blog_list.py [--articles 10000] [--duration 10] [--server granian]

Writes benchmarks/results/blog_list-<time>.json and .png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
QUERY = "/blog/articles?page_size=20"
console = Console()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed(count: int) -> None:
    from apps.blog.models import Article, Tag
    from apps.kernel import db

    tags = [Tag(name=name) for name in ("python", "databases", "devops", "litestar", "redis")]
    now = datetime.now(UTC)
    async with db.session() as session:
        session.add_all(tags)
        await session.flush()
        author = uuid4()
        for start in range(0, count, 1000):
            session.add_all(
                Article(
                    author_id=author,
                    author_name="Bench",
                    title=f"Article number {i}",
                    slug=f"article-number-{i}",
                    body=("Lorem ipsum dolor sit amet. " * 20) + str(i),
                    status="published",
                    published_at=now - timedelta(minutes=i),
                    tags=[tags[i % 5], tags[(i + 2) % 5]],
                )
                for i in range(start, min(count, start + 1000))
            )
            await session.flush()
    await db.dispose_engines()


def start(command: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + QUERY, timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"server {' '.join(command)} did not come up")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def wrk(url: str, duration: int, connections: int) -> float:
    """Requests per second wrk measured (one thread: the load generator shares 2 cores)."""
    subprocess.run(["wrk", "-t1", f"-c{connections}", "-d2s", url], capture_output=True, check=True)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"cannot read wrk output:\n{out}")
    return float(match.group(1))


def server_command(server: str, target: str, port: int, factory: bool = True) -> list[str]:
    if server == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--factory",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def plot(results: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh(list(results), list(results.values()), color=["#4c72b0", "#dd8452"] * 4)
    ax.set_xlabel("requests / second (wrk, 32 connections)")
    ax.set_title("GET /blog/articles?page_size=20 over the seeded articles")
    for i, value in enumerate(results.values()):
        ax.text(value, i, f" {value:,.0f}", va="center")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server", choices=["granian", "uvicorn", "both"], default="both")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (make system-deps installs it)")
    data_dir = Path(tempfile.mkdtemp(prefix="stackyard-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        STACKYARD_DATA_DIR=str(data_dir),
        STACKYARD_APPS="blog",
        LOG_LEVEL="WARNING",
        STACKYARD_EMBEDDED_WORKER="false",
    )
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "-m", "apps.cli", "migrate"], env=env, check=True, capture_output=True
    )
    with console.status(f"seeding {args.articles:,} articles"):
        asyncio.run(seed(args.articles))
    servers = ["granian", "uvicorn"] if args.server == "both" else [args.server]
    results: dict[str, float] = {}
    with Progress(console=console) as progress:
        task = progress.add_task("measuring", total=len(servers) * 2)
        for server in servers:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            ours = start(server_command(server, "apps.gateway:create_app_from_env", port), env, url)
            body = httpx.get(url + QUERY).content
            payload_file = data_dir / "payload.json"
            payload_file.write_bytes(body)
            try:
                results[f"stackyard ({server})"] = wrk(url + QUERY, args.duration, args.connections)
            finally:
                stop(ours)
            progress.advance(task)
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            baseline_env = dict(env, BASELINE_JSON_FILE=str(payload_file), PYTHONPATH=str(ROOT))
            bare = start(
                server_command(server, "benchmarks.baseline_app:create_app", port),
                baseline_env,
                url,
            )
            try:
                results[f"bare Litestar ({server})"] = wrk(
                    url + QUERY, args.duration, args.connections
                )
            finally:
                stop(bare)
            progress.advance(task)
    table = Table("server", "stackyard req/s", "bare req/s", "ratio")
    summary = {
        "articles": args.articles,
        "duration_s": args.duration,
        "connections": args.connections,
        "measured_at": datetime.now(UTC).isoformat(),
        "results": results,
        "ratios": {},
    }
    for server in servers:
        ours_rps, bare_rps = results[f"stackyard ({server})"], results[f"bare Litestar ({server})"]
        summary["ratios"][server] = round(ours_rps / bare_rps, 3)
        table.add_row(server, f"{ours_rps:,.0f}", f"{bare_rps:,.0f}", f"{ours_rps / bare_rps:.3f}")
    console.print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"blog_list-{stamp}.json").write_text(json.dumps(summary, indent=2))
    plot(results, RESULTS / f"blog_list-{stamp}.png")
    console.print(f"wrote {RESULTS / f'blog_list-{stamp}.json'} and .png")
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
