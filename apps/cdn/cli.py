"""`stackyard cdn up|down|status|simulate`: a real local CDN, and its simulator."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from apps.cdn.config import LB_ALGORITHMS, CdnConfig, ConfigError, default_config, parse_config

cli = typer.Typer(help="A local CDN (nginx edges behind HAProxy) and its simulator.")
console = Console()
err = Console(stderr=True)


def parse_size(text: str, field: str = "--cache-size") -> int:
    """`64m`, `512k`, `1g` or a byte count -> bytes."""
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    raw = text.strip().lower().removesuffix("b")
    try:
        if raw and raw[-1] in units:
            return int(float(raw[:-1]) * units[raw[-1]])
        return int(float(raw))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a size like 64m", param_hint=field) from None


def parse_count(text: str, field: str = "--requests") -> int:
    """`1000000` or `1e6` -> an int, refusing fractions and non-positive counts."""
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number", param_hint=field) from None
    if value < 1 or value != int(value) or value > 1e9:
        raise typer.BadParameter(f"{text!r} must be a whole number 1..1e9", param_hint=field)
    return int(value)


def default_state_dir() -> Path:
    from apps.kernel.settings import get_settings

    return get_settings().data_dir / "cdn"


def build_config(
    config_file: Path | None, edges: int, lb: str, objects: int, cache_size: str,
    inactive: int, latency_scale: float, seed: int,
) -> CdnConfig:  # fmt: skip
    if lb not in LB_ALGORITHMS:
        raise typer.BadParameter(f"choose from {', '.join(LB_ALGORITHMS)}", param_hint="--lb")
    try:
        if config_file is not None:
            return parse_config(yaml.safe_load(config_file.read_text()))
        return default_config(
            edges, lb, objects=objects, cache_size_bytes=parse_size(cache_size),
            inactive_s=inactive, latency_scale=latency_scale, seed=seed,
        )  # fmt: skip
    except ConfigError as exc:
        raise typer.BadParameter(exc.detail, param_hint=exc.field) from None


@cli.command()
def up(
    edges: int = typer.Option(3, "--edges", min=1, max=16, help="nginx edge caches."),
    lb: str = typer.Option("uri-consistent", "--lb", help="uri-consistent|roundrobin|leastconn"),
    objects: int = typer.Option(1000, "--objects", min=1, help="Catalogue ids 0..N-1."),
    cache_size: str = typer.Option("64m", "--cache-size", help="Each edge's max_size."),
    inactive: int = typer.Option(600, "--inactive", min=1, help="Edge `inactive`, seconds."),
    latency_scale: float = typer.Option(
        1.0, "--latency-scale", min=0.0, help="Multiply the latency matrix (0: no delay)."
    ),
    seed: int = typer.Option(0, "--seed", min=0),
    config_file: Path | None = typer.Option(
        None, "--config", exists=True, dir_okay=False, help="A CdnConfig as YAML/JSON."
    ),
    state_dir: Path | None = typer.Option(None, "--state-dir", help="Default: <data dir>/cdn."),
) -> None:
    """Run origin, N nginx edges and an HAProxy front until Ctrl-C or `stackyard cdn down`."""
    from apps.cdn.control import CdnError, LocalCdn

    config = build_config(
        config_file, edges, lb, objects, cache_size, inactive, latency_scale, seed
    )
    folder = (state_dir or default_state_dir()).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    cdn = LocalCdn(config, folder)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        cdn.start(announce=sys.stdout)
    except CdnError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    reported: set[str] = set()
    try:
        while not stopping:
            gone = cdn.exited()
            for name in sorted(set(gone) - reported):
                reported.add(name)
                err.print(f"{name} exited with {gone[name]}", highlight=False)
                if name in {"origin", "haproxy", "latency"}:
                    err.print("[red]error:[/] a core component exited; stopping")
                    raise typer.Exit(1)
            time.sleep(0.2)
    finally:
        cdn.stop()


@cli.command()
def down(
    state_dir: Path | None = typer.Option(None, "--state-dir", help="Default: <data dir>/cdn."),
) -> None:
    """Stop exactly what `cdn up` started (read from its state.json)."""
    from apps.cdn.control import CdnError, stop_recorded

    try:
        stopped = stop_recorded((state_dir or default_state_dir()).resolve())
    except CdnError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    console.print("stopped: " + (", ".join(stopped) or "nothing was running"), highlight=False)


@cli.command()
def status(
    state_dir: Path | None = typer.Option(None, "--state-dir", help="Default: <data dir>/cdn."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
) -> None:
    """Each edge's health, requests, hit ratio and bytes served (from its access log)."""
    from apps.cdn.control import CdnError
    from apps.cdn.control import status as edge_status

    try:
        rows = edge_status((state_dir or default_state_dir()).resolve())
    except CdnError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("edge", "region", "url", "health", "requests", "hit ratio", "bytes served")
    for row in rows:
        table.add_row(
            row["edge"], row["region"], row["url"], row["health"], str(row["requests"]),
            f"{row['hit_ratio']:.1%}", f"{row['bytes_served']:,}",
        )  # fmt: skip
    console.print(table)


def _print_figures(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        typer.echo(f"{key}: {value}")


@cli.command()
def simulate(
    policy: str = typer.Option("lru", "--policy", help="lru|lfu|ttl|gdsf|nginx"),
    edges: int = typer.Option(8, "--edges", min=1, max=256),
    lb: str = typer.Option("uri-consistent", "--lb", help="uri-consistent|roundrobin|leastconn"),
    requests: str = typer.Option("1e6", "--requests", help="1000000 or 1e6"),
    objects: int = typer.Option(100_000, "--objects", min=1, max=10_000_000),
    cache_size: str = typer.Option("64m", "--cache-size", help="Each edge's capacity."),
    alpha: float = typer.Option(0.9, "--alpha", min=0.0, max=3.0, help="Zipf exponent."),
    duration: float = typer.Option(86_400.0, "--duration", min=1.0, help="Trace seconds."),
    seed: int = typer.Option(0, "--seed", min=0),
    as_json: bool = typer.Option(False, "--json"),
    compare: Path | None = typer.Option(
        None, "--compare", help="Also run every policy x LB and write this PNG."
    ),
) -> None:
    """Simulate the CDN over a synthetic trace; prints `key: value` figures (or --json)."""
    from apps.cdn import simulate as sim
    from apps.cdn.config import POLICIES

    if policy not in POLICIES:
        choices = "lru, lfu, ttl, gdsf, nginx"
        raise typer.BadParameter(f"choose from {choices}", param_hint="--policy")
    count = parse_count(requests)
    config = build_config(None, edges, lb, objects, cache_size, 600, 1.0, seed)
    workload = sim.make_workload(count, config, alpha=alpha, duration_s=duration, seed=seed)
    result = sim.simulate(workload, config, policy=policy)
    figures: dict[str, Any] = {"policy": policy, "lb": lb, "edges": edges}
    figures |= result.figures(workload)
    _print_figures(figures, as_json)
    if compare is not None:
        from apps.cdn.report import compare_png

        rows = sim.compare(workload, config)
        compare_png(rows, compare, f"{count:,} requests, {edges} edges, alpha {alpha}")
        err.print(f"comparison: {compare}", highlight=False)
