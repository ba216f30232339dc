"""`stackyard observe`: run Prometheus locally; `observe snapshot`: dashboards to PNG."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

COMMAND_NAME = "observe"
cli = typer.Typer(
    help="Prometheus on the project's config and rules; dashboard snapshots as PNG.",
    invoke_without_command=True,
)
console = Console()
err = Console(stderr=True)


def _parse_targets(pairs: list[str]) -> dict[str, list[str]]:
    extra: dict[str, list[str]] = {}
    for pair in pairs:
        job, sep, address = pair.partition("=")
        if not sep or not job or not address:
            err.print(
                f"[red]error:[/] --target {pair!r}: expected JOB=HOST:PORT "
                "(e.g. redis=127.0.0.1:9121)"
            )
            raise typer.Exit(2)
        extra.setdefault(job, []).append(address)
    return extra


@cli.callback()
def observe(
    ctx: typer.Context,
    port: int = typer.Option(9090, "--port", help="Prometheus listens on 127.0.0.1:PORT."),
    app: list[str] = typer.Option(
        ["http://127.0.0.1:8000"], "--app", help="A running `stackyard serve` (repeatable)."
    ),
    locust: str = typer.Option(
        "127.0.0.1:9646", "--locust", help="Where `stackyard loadtest` exports Locust's metrics."
    ),
    target: list[str] = typer.Option(
        [], "--target", help="More scrape targets, JOB=HOST:PORT (celery, redis, postgres, node)."
    ),
    scrape_interval: str = typer.Option("5s", "--scrape-interval"),
) -> None:
    """Start Prometheus with the project's rules, scraping the apps and the load tests."""
    if ctx.invoked_subcommand is not None:
        return
    from apps.kernel.settings import SettingsError, load_settings
    from observability import runtime

    try:
        data_dir = load_settings().data_dir
    except SettingsError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    folder = data_dir / "prometheus"
    try:
        config = runtime.render_config(
            apps=app,
            locust=[locust] if locust else [],
            extra=_parse_targets(target),
            listen=f"127.0.0.1:{port}",
            scrape_interval=scrape_interval,
        )
        prometheus = runtime.start(runtime.write_config(folder, config), folder / "data", port=port)
    except (runtime.PrometheusMissingError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with console.status("starting Prometheus"):
            runtime.wait_ready(prometheus)
        console.print(f"prometheus on {prometheus.url}", highlight=False)
        console.print(
            f"scraping {', '.join(runtime.host_port(a) for a in app)} (apps), {locust} (locust); "
            f"config {prometheus.config}; log {prometheus.log}",
            highlight=False,
        )
        while not stopping:
            if prometheus.process.poll() is not None:
                err.print(f"[red]error:[/] prometheus exited; see {prometheus.log}")
                raise typer.Exit(1)
            time.sleep(0.3)
    except RuntimeError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    finally:
        runtime.stop(prometheus)


@cli.command()
def snapshot(
    dashboard: str = typer.Argument(..., help="Dashboard module: platform, celery, ..."),
    start: str = typer.Option("now-1h", "--from", help="now-15m, a Unix time or ISO time."),
    end: str = typer.Option("now", "--to"),
    prometheus: str = typer.Option("http://127.0.0.1:9090", "--prometheus"),
    out: Path = typer.Option(None, "--out", help="PNG path (default: <dashboard>-<time>.png)."),
    var: list[str] = typer.Option([], "--var", help="Dashboard variable, NAME=VALUE."),
    scrape_interval: float = typer.Option(5.0, "--scrape-interval", help="Seconds."),
) -> None:
    """Render DASHBOARD's panels over --from..--to to a PNG, from Prometheus's HTTP API."""
    from observability import snapshot as snapshots
    from observability.grafana import dashboards

    if dashboard not in dashboards.names():
        err.print(
            f"[red]error:[/] unknown dashboard {dashboard!r}; "
            f"choose from {', '.join(dashboards.names())}"
        )
        raise typer.Exit(2)
    try:
        start_at, end_at = snapshots.parse_time(start), snapshots.parse_time(end)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    variables = dict(item.partition("=")[::2] for item in var)
    path = out or Path(f"{dashboard}-{time.strftime('%Y%m%d-%H%M%S')}.png")
    with console.status(f"querying {prometheus} for {dashboard}"):
        try:
            result = snapshots.render(
                prometheus, dashboard, start_at, end_at, path,
                variables=variables, scrape_interval=scrape_interval,
            )  # fmt: skip
        except ValueError as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
    table = Table("panel", "series", "errors")
    for panel in result.panels:
        table.add_row(panel.title, str(panel.series), "; ".join(panel.errors)[:80])
    console.print(table)
    console.print(
        f"wrote {result.path} "
        f"({len(result.panels_with_data)}/{len(result.panels)} panels with data)"
    )


@cli.command("dashboards")
def write_dashboards(
    check: bool = typer.Option(False, "--check", help="Fail if the committed JSON is stale."),
) -> None:
    """Regenerate observability/grafana/json/ from the dashboard modules."""
    from observability.grafana import dashboards

    stale = [
        name
        for name in dashboards.names()
        if not (dashboards.JSON_DIR / f"{name}.json").exists()
        or json.loads((dashboards.JSON_DIR / f"{name}.json").read_text()) != dashboards.render(name)
    ]
    if check:
        if stale:
            err.print(f"[red]stale:[/] {', '.join(stale)}; run `stackyard observe dashboards`")
            raise typer.Exit(1)
        console.print("dashboards up to date")
        return
    for path in dashboards.write_all():
        console.print(f"wrote {path}")
