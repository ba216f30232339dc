"""`stackyard infra`: see the Pulumi plan without an AWS account, check its policy, and run
the topology through the AWS APIs against a local moto server."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from stacks.simulate import Simulation

cli = typer.Typer(
    help="Infrastructure: the Pulumi plan per environment (graph, check) and a moto smoke test.",
    no_args_is_help=True,
)
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _simulate(env: str) -> Simulation:
    from stacks.config import ConfigError, read_stack_file
    from stacks.simulate import simulate_in_subprocess

    try:
        read_stack_file(env)
    except ConfigError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        return simulate_in_subprocess(env)
    except RuntimeError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


@cli.command()
def graph(
    env: str = typer.Argument(..., help="Environment: reads Pulumi.ENV.yaml at the project root."),
    out: Path | None = typer.Option(None, "--out", help="Also draw the tree into this SVG file."),
) -> None:
    """Print the resource tree `pulumi up` would create for ENV (run under mocks, no account)."""
    from stacks.graph import render_svg, render_text, resource_tree

    tree = resource_tree(_simulate(env))
    console.out(render_text(tree), end="")
    if out is not None:
        svg, how = render_svg(tree)
        out.write_text(svg)
        err.print(f"wrote {out} ({how})")


@cli.command()
def check(env: str = typer.Argument(..., help="Environment: Pulumi.ENV.yaml.")) -> None:
    """Check ENV's plan against the policy (private stores, encryption, tags, sizes, ...)."""
    from stacks.config import config_from_file
    from stacks.policy import all_violations

    simulation = _simulate(env)
    problems = all_violations(simulation, config_from_file(env))
    for problem in problems:
        console.print(f"[red]violation:[/] {problem}")
    if problems:
        raise typer.Exit(1)
    console.print(f"{env}: {len(simulation.resources)} resources, every policy holds")


@cli.command()
def smoke(
    endpoint: str = typer.Option(..., "--endpoint", help="AWS API endpoint, e.g. a moto server."),
    env: str = typer.Option("dev", "--env", help="Whose Pulumi.ENV.yaml values to use."),
) -> None:
    """Create the topology (VPC, SGs, ALB, RDS, ElastiCache, S3, CloudFront) through ENDPOINT
    with boto3 and check that it is wired together; exit 1 if any check fails."""
    from botocore.exceptions import BotoCoreError, ClientError

    from stacks.config import ConfigError, config_from_file
    from stacks.smoke import run_smoke

    logging.getLogger("botocore").setLevel(logging.WARNING)
    try:
        report = run_smoke(config_from_file(env), endpoint)
    except ConfigError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    except (BotoCoreError, ClientError) as exc:
        err.print(f"[red]error:[/] {endpoint}: {exc}")
        raise typer.Exit(1) from None
    for item in report.checks:
        mark = "[green]ok[/]  " if item.ok else "[red]FAIL[/]"
        detail = f"  ({item.detail})" if item.detail and not item.ok else ""
        console.print(f"{mark} {item.name}{detail}")
    if not report.ok:
        raise typer.Exit(1)
    console.print(f"{env} topology wired through {endpoint}: {len(report.checks)} checks passed")
