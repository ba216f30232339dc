"""`stackyard loadtest SCENARIO`: run a registered scenario and write its report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

COMMAND_NAME = "loadtest"
cli = typer.Typer(help="Run load-test scenarios (Locust, headless).")
console = Console()
err = Console(stderr=True)


@cli.command()
def loadtest(
    scenario: str = typer.Argument(..., help="Scenario name (`list` shows them)."),
    users: int = typer.Option(10, "--users", "-u", min=1, help="Simulated users."),
    spawn_rate: float = typer.Option(2.0, "--spawn-rate", "-r", min=0.1, help="Users/s."),
    duration: str = typer.Option("60s", "--duration", "-t", help="Run time: 30s, 5m, 1h30m."),
    host: str = typer.Option(
        "", "--host", help="Load this base URL instead of starting the scenario's own target."
    ),
    results: Path = typer.Option(
        Path("loadtests/results"), "--results", help="Folder for <scenario>-<timestamp>/."
    ),
    metrics_port: int = typer.Option(
        9646, "--metrics-port", help="Port of Locust's Prometheus exporter (0: off)."
    ),
    linger: float = typer.Option(
        6.0, "--linger", min=0, help="Seconds the exporter serves after the run (final scrape)."
    ),
) -> None:
    """Run SCENARIO headless; writes CSVs, report.png and summary.json under --results."""
    from loadtests import runner, scenarios

    if scenario == "list":
        table = Table("scenario", "what it does", "locustfile")
        for found in scenarios.discover().values():
            table.add_row(found.name, found.description, str(found.locustfile))
        console.print(table)
        return
    try:
        chosen = scenarios.get(scenario)
        seconds = runner.parse_duration(duration)
    except (scenarios.UnknownScenarioError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc.args[0]}")
        raise typer.Exit(2) from None
    options = runner.RunOptions(
        users=users,
        spawn_rate=spawn_rate,
        duration=seconds,
        host=host or None,
        results=results.resolve(),
        metrics_port=metrics_port,
        linger=linger,
    )
    try:
        result = runner.run(chosen, options, console)
    except RuntimeError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    summary = result.summary
    latency = summary["latency_ms"]
    console.print(
        f"{summary['requests']} requests, {summary['failures']} failures "
        f"({summary['failure_ratio']:.1%}), {summary['requests_per_second'] or 0:.1f} req/s, "
        f"p50 {latency['p50']} ms, p95 {latency['p95']} ms, p99 {latency['p99']} ms"
    )
    if summary["load_generator_cpu_bound"]:
        err.print(
            "[yellow]warning:[/] the Locust process was CPU-bound "
            f"({summary['locust_cpu_max_percent']}% peak): these numbers measure the load "
            "generator, not the server. Use fewer users or more Locust processes."
        )
    console.print(f"report: {result.folder / 'report.png'}", soft_wrap=True)
    console.print(f"summary: {result.folder / 'summary.json'}", soft_wrap=True)
