"""Run the roles over an inventory with pyinfra's Python API and say what changed.

`apply_roles` is what `stackyard deploy` and the tests call: each role, in `ROLE_ORDER`, on the
hosts of its group; `dry=True` only gathers facts and reports what would change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.deploy import add_deploy
from pyinfra.api.operations import run_ops

from roles.inventories import ROLE_ORDER


def role_deploys() -> dict[str, Callable[[], Any]]:
    """Role name -> its @deploy function (imported here so `roles.inventories` stays light)."""
    from roles.app import app
    from roles.base import base
    from roles.edge import edge
    from roles.lb import lb
    from roles.observability import observability
    from roles.postgres import postgres_server
    from roles.redis import redis
    from roles.sandbox import sandbox
    from roles.worker import worker

    return {
        "base": base,
        "postgres": postgres_server,
        "redis": redis,
        "app": app,
        "worker": worker,
        "lb": lb,
        "edge": edge,
        "observability": observability,
        "sandbox": sandbox,
    }


@dataclass
class HostReport:
    """One host's operations: each name with whether it changed (None: not executed)."""

    name: str
    operations: list[tuple[str, bool | None]] = field(default_factory=list)
    failed: bool = False

    @property
    def changed(self) -> list[str]:
        return [name for name, changed in self.operations if changed]


def apply_roles(inventory: Inventory, *, dry: bool = False, parallel: int = 0) -> list[HostReport]:
    """Every role of `ROLE_ORDER` on its group's hosts; returns a report per host."""
    state = State(inventory, Config(PARALLEL=parallel, FAIL_PERCENT=0), check_for_changes=dry)
    deploys = role_deploys()
    connect_all(state)
    try:
        for role in ROLE_ORDER:
            hosts = [h for h in inventory.get_group(role, [])]
            if hosts:
                add_deploy(state, deploys[role], host=hosts)
        if not dry:
            run_ops(state)
    finally:
        disconnect_all(state)
    return [_report(state, host, executed=not dry) for host in inventory]


def _report(state: State, host: Any, *, executed: bool) -> HostReport:
    report = HostReport(host.name)
    failed_hosts = state.failed_hosts
    report.failed = host in failed_hosts
    for op_hash in state.get_op_order():
        op_data = state.ops[host].get(op_hash)
        if op_data is None:
            continue
        name = ", ".join(sorted(state.get_op_meta(op_hash).names))
        meta = op_data.operation_meta
        if executed:
            changed = meta.did_change() if meta.is_complete() else None
        else:
            changed = meta.will_change
        report.operations.append((name, changed))
    return report
