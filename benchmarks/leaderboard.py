"""Score submissions per second, as ratios, in one run on one Redis (and Postgres):

  (a) raw Redis: `redis-benchmark -t zadd` (32 clients, unpipelined; pipelined shown too)
  (b) a bare Litestar handler doing one ZADD per POST (redis-py asyncio, hiredis)
  (c) our `POST /leaderboard/games/{game}/scores`: JWT auth, rate limit, history row in
      Postgres (group commit), Lua update of all the game's boards

(b) and (c) run under the same server (granian, one worker) and are loaded by wrk with 32
connections, alternately for --rounds rounds. This machine's speed drifts by up to a third
within seconds, so each round's (c) is divided by the (b) measured just before it, and c/b
is the median of those paired ratios; the ratio of the two medians is shown beside it.
(c) rotates through --players signed-in players so the per-user rate limit is exercised but
not hit (LEADERBOARD_SUBMISSIONS_PER_MINUTE is raised). Run:

    .venv/bin/python benchmarks/leaderboard.py [--duration 10] [--players 200] [--rounds 5]

Needs the real Postgres (127.0.0.1:5432) and Redis (127.0.0.1:6379): a fresh database and a
free Redis database index are claimed and dropped. Writes benchmarks/results/leaderboard-*.json
and a .png of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.blog_list import free_port, server_command, stop  # noqa: E402
from tests.support import real_services  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SLUG = "bench"
PATH = f"/leaderboard/games/{SLUG}/scores"
console = Console()


def bare_app() -> Any:
    """(b): POST PATH with `{"score": n}` does one ZADD of a random player, answers the score."""
    from litestar import Litestar, post
    from redis.asyncio import Redis

    redis = Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)

    @post(PATH, status_code=201)
    async def submit(data: dict[str, int]) -> dict[str, int]:
        score = int(data["score"])
        await redis.zadd("bench:bare", {f"player-{random.randrange(10_000)}": score})
        return {"score": score}

    return Litestar(route_handlers=[submit], logging_config=None)


def redis_benchmark(index: int, pipeline: int) -> float:
    out = subprocess.run(
        [
            "redis-benchmark",
            "-h",
            "127.0.0.1",
            "-p",
            "6379",
            "--dbnum",
            str(index),
            "-c",
            "32",
            "-n",
            "200000",
            "-P",
            str(pipeline),
            "-t",
            "zadd",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"ZADD:\s+([\d.]+) requests per second", out.replace("\r", "\n"))
    if not match:
        raise SystemExit(f"cannot read redis-benchmark output:\n{out}")
    return float(match.group(1))


def wrk(url: str, script: Path, duration: int, connections: int) -> float:
    """Requests/s wrk measured; any non-2xx answer aborts the benchmark."""
    args = ["wrk", "-t1", f"-c{connections}", "-s", str(script)]
    subprocess.run([*args, "-d2s", url], capture_output=True, check=True)
    out = subprocess.run(
        [*args, f"-d{duration}s", url], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"cannot read wrk output:\n{out}")
    return float(match.group(1))


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def wrk_script(folder: Path, tokens: list[str], name: str) -> Path:
    """A wrk script posting a random score as the next player of `tokens` (round robin)."""
    listed = ",".join(f'"{t}"' for t in tokens) or '""'
    path = folder / f"submit-{name}.lua"
    path.write_text(
        f"local tokens = {{{listed}}}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        "  local headers = {['Content-Type'] = 'application/json'}\n"
        "  if tokens[1] ~= '' then\n"
        "    headers['Authorization'] = 'Bearer ' .. tokens[(n % #tokens) + 1]\n"
        "  end\n"
        f"  return wrk.format('POST', '{PATH}', headers,\n"
        "    '{\"score\":' .. math.random(0, 1000000) .. '}')\n"
        "end\n"
    )
    return path


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
            httpx.get(url + "/", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"server {' '.join(command)} did not come up")


async def create_game() -> None:
    from apps.kernel import db
    from apps.leaderboard.models import Game

    async with db.session() as session:
        session.add(Game(slug=SLUG, name="Benchmark", sort_order="high_first", operator="best"))
    await db.dispose_engines()


def sign_in_players(url: str, count: int) -> list[str]:
    tokens = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(count):
            email = f"bench-{i}-{os.getpid()}@example.com"
            body = {"email": email, "password": "a long enough passphrase"}
            client.post("/auth/signup", json={**body, "display_name": f"Bench {i}"})
            tokens.append(client.post("/auth/login", json=body).json()["access_token"])
            client.cookies.clear()
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    parser.add_argument("--rounds", type=int, default=5, help="alternating (b)/(c) runs")
    args = parser.parse_args()
    for tool in ("wrk", "redis-benchmark"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed")
    problem = real_services.unreachable()
    if problem:
        raise SystemExit(f"the benchmark needs the real services: {problem} is unreachable")
    database = real_services.create_database("stackyard_bench")
    index = real_services.claim_redis_index()
    data_dir = Path(tempfile.mkdtemp(prefix="stackyard-bench-"))
    env = dict(
        os.environ,
        STACKYARD_DATA_DIR=str(data_dir),
        DATABASE_URL=f"postgresql://{real_services.PG_USER}@{real_services.PG_HOST}:"
        f"{real_services.PG_PORT}/{database}",
        REDIS_URL=f"{real_services.REDIS_BASE}/{index}",
        STACKYARD_APPS="leaderboard",
        STACKYARD_EMBEDDED_WORKER="false",
        LOG_LEVEL="WARNING",
        JWT_SECRET="bench-secret-" + "x" * 40,
        PASSWORD_HASH_TIME_COST="1",
        PASSWORD_HASH_MEMORY_KIB="1024",
        LEADERBOARD_SUBMISSIONS_PER_MINUTE="1000000000",
        PYTHONPATH=str(ROOT),
    )
    os.environ.update(env)
    results: dict[str, float] = {}
    rounds_b: list[float] = []
    rounds_c: list[float] = []
    try:
        subprocess.run(
            [sys.executable, "-m", "apps.cli", "migrate"], env=env, check=True, capture_output=True
        )
        asyncio.run(create_game())
        with console.status("(a) redis-benchmark ZADD"):
            results["a_redis_zadd"] = redis_benchmark(index, 1)
            results["a_redis_zadd_pipelined_16"] = redis_benchmark(index, 16)
        bare_url = f"http://127.0.0.1:{free_port()}"
        ours_url = f"http://127.0.0.1:{free_port()}"
        target = "apps.gateway:create_app_from_env"
        bare = start(
            server_command(args.server, "benchmarks.leaderboard:bare_app", port_of(bare_url)),
            env,
            bare_url,
        )
        try:
            ours = start(server_command(args.server, target, port_of(ours_url)), env, ours_url)
            try:
                with console.status(f"signing in {args.players} players"):
                    tokens = sign_in_players(ours_url, args.players)
                bare_script = wrk_script(data_dir, [], "bare")
                ours_script = wrk_script(data_dir, tokens, "ours")
                # Alternate (b) and (c) so both see the same drift in machine load; medians.
                for round_ in range(1, args.rounds + 1):
                    with console.status(f"round {round_}/{args.rounds}: (b) bare handler"):
                        rounds_b.append(wrk(bare_url, bare_script, args.duration, args.connections))
                    with console.status(f"round {round_}/{args.rounds}: (c) POST scores"):
                        rounds_c.append(wrk(ours_url, ours_script, args.duration, args.connections))
            finally:
                stop(ours)
        finally:
            stop(bare)
        results["b_bare_handler"] = statistics.median(rounds_b)
        results["c_submit_score"] = statistics.median(rounds_c)
        rows = asyncio.run(count_rows())
    finally:
        real_services.release_redis_index(index)
        real_services.drop_database(database)
        shutil.rmtree(data_dir, ignore_errors=True)
    a, b, c = results["a_redis_zadd"], results["b_bare_handler"], results["c_submit_score"]
    paired = [rc / rb for rb, rc in zip(rounds_b, rounds_c, strict=True)]
    c_over_b = statistics.median(paired)
    summary = {
        "measured_at": datetime.now(UTC).isoformat(),
        "server": args.server,
        "duration_s": args.duration,
        "connections": args.connections,
        "players": args.players,
        "rounds": args.rounds,
        "results": results,
        "rounds_b": rounds_b,
        "rounds_c": rounds_c,
        "history_rows_stored": rows,
        "ratios": {
            "b/a": round(b / a, 3),
            "c/b": round(c_over_b, 3),
            "c/b_of_medians": round(c / b, 3),
            "c/b_per_round": [round(r, 3) for r in paired],
        },
    }
    table = Table("measure", "ops or requests / s")
    for name, value in results.items():
        table.add_row(name, f"{value:,.0f}")
    table.add_row("b/a", f"{b / a:.3f}")
    table.add_row("c/b (median of paired rounds)", f"{c_over_b:.3f}  (goal >= 0.5)")
    table.add_row("c/b (ratio of the medians)", f"{c / b:.3f}")
    table.add_row("c/b per round", ", ".join(f"{r:.2f}" for r in paired))
    console.print(table)
    console.print(f"history rows stored during (c): {rows}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"leaderboard-{stamp}.json"
    out.write_text(json.dumps(summary, indent=2))
    plot(rounds_b, rounds_c, paired, out.with_suffix(".png"))
    console.print(f"wrote {out} and .png")


def plot(rounds_b: list[float], rounds_c: list[float], paired: list[float], path: Path) -> None:
    """Requests/s of (b) and (c) per round, and their paired ratio against the goal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = range(1, len(rounds_b) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.plot(rounds, rounds_b, "o-", label="(b) bare handler, one ZADD")
    left.plot(rounds, rounds_c, "s-", label="(c) POST /scores")
    left.set(xlabel="round", ylabel="requests / s", title="Throughput per round", ylim=(0, None))
    left.set_xticks(list(rounds))
    left.legend(fontsize=8)
    right.bar(rounds, paired, color="#4c72b0")
    right.axhline(0.5, color="#c44e52", linestyle="--", label="goal 0.5")
    right.axhline(statistics.median(paired), color="#55a868", label="median")
    right.set(xlabel="round", ylabel="c / b", title="Paired ratio per round", ylim=(0, 1))
    right.set_xticks(list(rounds))
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


async def count_rows() -> int:
    from sqlalchemy import func, select

    from apps.kernel import db
    from apps.leaderboard.models import Score

    async with db.session() as session:
        count = await session.scalar(select(func.count()).select_from(Score))
    await db.dispose_engines()
    return int(count or 0)


if __name__ == "__main__":
    main()
