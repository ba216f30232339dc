"""Concurrent bot-vs-bot Battleship games through `/battleship/ws`, every frame refereed.

N games (default 500, so 2N sockets) start at once against a `stackyard serve` this script
starts on a free port with a fresh embedded data dir (DATABASE_URL / REDIS_URL in the
environment are passed on), or against `--url`. Each bot checks every frame it receives
(`apps.battleship.client.Referee`: moves only go forward, no cell fired at twice, no opponent
fleet in any view, the winner really sank 17 cells); a game with any such problem, a refused
request or a broken connection counts as illegal. Moves/s is moves applied by the server over
the wall time of the whole run; the RTT is from sending a shot to receiving its update.

The baseline is the same bots playing the same number of games on the rules engine in this
process (no server, no socket, no database), printed as a ratio. Run from the repo root:

    .venv/bin/python benchmarks/battleship.py [--games 500] [--url http://127.0.0.1:8000]

The last line is `games=N illegal=K moves_per_s=X p99_rtt_ms=Y`; exit status 0 only if K is 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

try:  # psutil comes with the `loadtest` extra (locust); only the CPU figures need it
    import psutil
except ImportError:  # pragma: no cover - the figures are then reported as 0
    psutil = None

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.battleship.bot import choose_shot, random_fleet  # noqa: E402
from apps.battleship.client import MatchResult, bot_match  # noqa: E402
from apps.battleship.engine import Game  # noqa: E402
from tests.support.servers import live_server  # noqa: E402

err = Console(stderr=True)


def cpu_seconds(pid: int | None) -> float:
    """CPU time used so far by process `pid` and its children (this process when None)."""
    if psutil is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        with suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


@contextmanager
def started_server() -> Iterator[tuple[str, int]]:
    """Migrate a fresh data dir and serve only the battleship app until the block ends."""
    data_dir = Path(tempfile.mkdtemp(prefix="battleship-bench-"))
    env = {"STACKYARD_EMBEDDED_WORKER": "false", "LOG_LEVEL": "WARNING"}
    try:
        with live_server(data_dir, env=env, args=("--app", "battleship")) as server:
            yield server.url, server.process.pid
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


async def play_all(url: str, games: int, seed: int) -> tuple[list[MatchResult], float]:
    rng = random.Random(seed)
    results: list[MatchResult] = []
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"{games} games", total=games)

        async def one() -> MatchResult:
            try:
                result = await bot_match(url, random.Random(rng.random()))
            except Exception as exc:  # the connection failed before the game started
                result = MatchResult("-", None, 0, [], [f"{type(exc).__name__}: {exc}"])
            progress.advance(task)
            return result

        started = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(games)))
        elapsed = time.perf_counter() - started
    return results, elapsed


def engine_baseline(games: int, seed: int) -> float:
    """Moves/s of the same bots on the bare rules engine, in this process."""
    rng = random.Random(seed)
    moves = 0
    started = time.perf_counter()
    for _ in range(games):
        game = Game(code="BENCH")
        game.seat_joined("b")
        game.place(0, random_fleet(rng))
        game.place(1, random_fleet(rng))
        while game.phase == "playing":
            seat = game.turn
            view = game.view(seat)  # the server builds a view per receiver too
            game.view(1 - seat)
            game.fire(seat, *choose_shot(view["boards"][1 - seat], rng))
        moves += game.move
    return moves / (time.perf_counter() - started)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=500, help="concurrent games (default 500)")
    parser.add_argument("--url", help="an already running server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if args.games < 1:
        parser.error("--games must be at least 1")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server_pid: int | None = None
    with ExitStack() as stack:
        url = args.url
        if not url:
            url, server_pid = stack.enter_context(started_server())
            err.print(f"server: {url} (battleship only, fresh data dir)")
        cpu_before = (cpu_seconds(None), cpu_seconds(server_pid) if server_pid else 0.0)
        results, elapsed = asyncio.run(play_all(url, args.games, args.seed))
        client_cpu = (cpu_seconds(None) - cpu_before[0]) / elapsed
        server_cpu = (cpu_seconds(server_pid) - cpu_before[1]) / elapsed if server_pid else None
    load = os.getloadavg()[0]
    server_share = f"{server_cpu:.0%}" if server_cpu is not None else "n/a"
    err.print(f"cpu: client {client_cpu:.0%}, server {server_share} of a core; load {load:.1f}")
    illegal = [result for result in results if result.problems]
    for result in illegal[:5]:
        err.print(f"[red]illegal[/] game {result.code}: {'; '.join(result.problems[:3])}")
    moves = sum(result.moves for result in results)
    rtts = [rtt for result in results for rtt in result.rtts]
    moves_per_s = moves / elapsed if elapsed else 0.0
    baseline = engine_baseline(min(args.games, 200), args.seed)
    print(
        f"moves={moves} elapsed_s={elapsed:.2f} p50_rtt_ms={percentile(rtts, 0.5) * 1000:.1f} "
        f"engine_moves_per_s={baseline:.0f} server/engine={moves_per_s / baseline:.4f}"
    )
    print(
        f"games={len(results)} illegal={len(illegal)} moves_per_s={moves_per_s:.0f} "
        f"p99_rtt_ms={percentile(rtts, 0.99) * 1000:.1f}"
    )
    return 0 if not illegal else 1


if __name__ == "__main__":
    sys.exit(main())
