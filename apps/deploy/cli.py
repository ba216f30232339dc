"""`stackyard deploy ENV [--outputs FILE] [--role ROLE] [--dry]`.

Exit codes: 0 every host configured (or, with --dry, planned); 1 an operation failed on a host;
2 bad usage (unknown environment or role, unreadable outputs, the wheel could not be built).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from roles.inventories import (
    PROJECT_ROOT,
    ROLE_ORDER,
    InventoryError,
    Node,
    build_inventory,
    plan_nodes,
    read_outputs,
    ssh_config,
)

cli = typer.Typer(help="Run the pyinfra roles over an environment's nodes.")
console = Console()
err = Console(stderr=True)
WORK = PROJECT_ROOT / ".stackyard" / "deploy"
# Deployer environment variables that become host data, never written to a file in the repo.
SECRET_VARIABLES = {
    "STACKYARD_POSTGRES_PASSWORD": "postgres_password",
}


def build_wheel(dest: Path) -> Path:
    """A wheel of this checkout (the release the app and worker nodes install)."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("stackyard-*.whl"):
        old.unlink()
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dest), "."],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wheels = sorted(dest.glob("stackyard-*.whl"))
    if result.returncode != 0 or not wheels:
        raise InventoryError(f"could not build the release wheel: {result.stderr.strip()[-500:]}")
    return wheels[-1]


def _overrides(env: str, nodes: list[Node], role: str | None, dry: bool) -> dict[str, Any]:
    wanted = {r for node in nodes for r in node.roles if role in (None, r)}
    if dry or not wanted & {"app", "worker"}:
        return {}
    with console.status("building the release wheel"):
        wheel = build_wheel(WORK / env / "dist")
    return {"stackyard_wheel": str(wheel)}


def _connection(env: str, nodes: list[Node]) -> dict[str, Any]:
    """The SSH config for Session Manager, when this environment reaches nodes through it."""
    if not nodes or nodes[0].data.get("ssh_via") != "ssm":
        return {}
    path = WORK / env / "ssh_config"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ssh_config(str(nodes[0].data.get("region") or "")))
    return {"ssh_config_file": str(path)}


@cli.command()
def deploy(
    env: str = typer.Argument(..., help="Environment (stack) name: dev, staging, prod, ..."),
    outputs: Path | None = typer.Option(
        None, "--outputs", help="Saved `pulumi stack output --json`; default: ask pulumi."
    ),
    role: str | None = typer.Option(
        None, "--role", help=f"Only this role: {', '.join(ROLE_ORDER)}"
    ),
    dry: bool = typer.Option(False, "--dry", help="Gather facts and show what would change."),
) -> None:
    """Run the roles over ENV's nodes (inventory from the stack outputs)."""
    if role is not None and role not in ROLE_ORDER:
        err.print(f"[red]error:[/] unknown role {role!r} (roles: {', '.join(ROLE_ORDER)})")
        raise typer.Exit(2)
    secrets = {key: os.environ[var] for var, key in SECRET_VARIABLES.items() if var in os.environ}
    try:
        stack_outputs = read_outputs(env, outputs)
        nodes = plan_nodes(stack_outputs, env, secrets=secrets)
        overrides = _overrides(env, nodes, role, dry)
        if overrides:
            nodes = plan_nodes(stack_outputs, env, secrets=secrets, overrides=overrides)
    except InventoryError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    targets = [node for node in nodes if role is None or role in node.roles]
    if not targets:
        console.print(f"no host of {env} runs {role or 'any role'}")
        return
    from roles.apply import apply_roles

    inventory = build_inventory(nodes, only_role=role, override_data=_connection(env, nodes))
    reports = apply_roles(inventory, dry=dry)
    table = Table(title=f"{env}: {'planned' if dry else 'applied'}")
    for column in ("host", "roles", "operations", "would change" if dry else "changed", "status"):
        table.add_column(column)
    by_name = {node.name: node for node in nodes}
    for report in reports:
        node = by_name.get(report.name)
        table.add_row(
            report.name,
            ", ".join([role] if role else (node.roles if node else ())),
            str(len(report.operations)),
            str(len(report.changed)),
            "[red]failed[/]" if report.failed else "ok",
        )
    console.print(table)
    if any(report.failed for report in reports):
        raise typer.Exit(1)
