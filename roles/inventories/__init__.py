"""pyinfra inventories built from the stack outputs (`pulumi stack output --json`), never typed.

`read_outputs` gets the outputs (from Pulumi, or a saved JSON file); `plan_nodes` turns them and
`group_data/` into one `Node` per host with its roles and data (pure, so tests need no pyinfra
state); `build_inventory` makes the pyinfra `Inventory`, one group per role and one per node
kind; `ssh_config` is the OpenSSH config that tunnels through AWS Session Manager.
"""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

GROUP_DATA = Path(__file__).resolve().parent.parent / "group_data"
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# What each node kind of the stack outputs runs, in order; `base` first everywhere.
ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    "app": ("base", "app"),
    "worker": ("base", "worker"),
    "edge": ("base", "edge"),
    "observability": ("base", "observability"),
    "sandbox": ("base", "sandbox"),
    # Only in environments without the ALB, RDS and ElastiCache (see group_data/local.py).
    "lb": ("base", "lb"),
    "postgres": ("base", "postgres"),
    "redis": ("base", "redis"),
}
ROLE_ORDER = (
    "base",
    "postgres",
    "redis",
    "app",
    "worker",
    "lb",
    "edge",
    "observability",
    "sandbox",
)
SECRET_PLACEHOLDER = "[secret]"


class InventoryError(ValueError):
    """Stack outputs or group data that cannot make an inventory; the message says where."""


@dataclass(frozen=True)
class Node:
    """One host: its name in the stack outputs, the address pyinfra reaches, what it runs."""

    name: str
    address: str
    kind: str
    roles: tuple[str, ...]
    data: dict[str, Any] = field(default_factory=dict)


def read_outputs(env: str, outputs_file: Path | None = None) -> dict[str, Any]:
    """The stack outputs of `env`: a saved `pulumi stack output --json` file, else the CLI's."""
    if outputs_file is not None:
        try:
            outputs = json.loads(Path(outputs_file).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InventoryError(f"{outputs_file}: {exc}") from None
    else:
        if shutil.which("pulumi") is None:
            raise InventoryError(
                "the pulumi CLI is not installed: pass --outputs FILE "
                "(saved with `pulumi stack output --json > FILE`)"
            )
        result = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--stack", env],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise InventoryError(f"pulumi stack output --stack {env}: {result.stderr.strip()}")
        outputs = json.loads(result.stdout)
    if not isinstance(outputs, dict) or not isinstance(outputs.get("hosts"), dict):
        raise InventoryError("stack outputs have no `hosts` object: is this the stackyard stack?")
    recorded = outputs.get("environment")
    if recorded and recorded != env:
        raise InventoryError(f"the outputs are of environment {recorded!r}, not {env!r}")
    return outputs


def _module_data(path: Path) -> dict[str, Any]:
    values = runpy.run_path(str(path))
    return {
        key: value
        for key, value in values.items()
        if not key.startswith("_") and not isinstance(value, ModuleType) and not callable(value)
    }


def environments() -> list[str]:
    """Environments with a group_data file."""
    return sorted(
        path.stem
        for path in GROUP_DATA.glob("*.py")
        if path.stem not in {"__init__", "all"} and not path.stem.startswith("_")
    )


def group_data(env: str, folder: Path = GROUP_DATA) -> dict[str, Any]:
    """`all.py` overlaid with `<env>.py`: every host's defaults in that environment."""
    env_file = folder / f"{env}.py"
    if not env_file.exists():
        known = ", ".join(environments()) or "none"
        raise InventoryError(f"no group data for environment {env!r} (known: {known})")
    return {**_module_data(folder / "all.py"), **_module_data(env_file)}


def _fleet(hosts: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, str]]]:
    """Every host's name and addresses by kind, for roles that point at other nodes."""
    return {
        kind: [
            {
                "name": str(entry["name"]),
                "address": str(entry["address"]),
                "private_ip": str(entry.get("private_ip") or entry["address"]),
            }
            for entry in entries
        ]
        for kind, entries in hosts.items()
    }


def _derived_app_env(
    fleet: Mapping[str, list[dict[str, str]]], data: Mapping[str, Any], secrets: Mapping[str, str]
) -> dict[str, str]:
    """Settings that follow from the other nodes: self-hosted stores and the load balancer."""
    env: dict[str, str] = {}
    if fleet.get("lb"):
        env["FORWARDED_ALLOW_IPS"] = ",".join(h["private_ip"] for h in fleet["lb"])
    if fleet.get("redis"):
        redis = fleet["redis"][0]["private_ip"]
        env["REDIS_URL"] = f"redis://{redis}:{data['redis_cache_port']}/0"
        env["CELERY_BROKER_URL"] = f"redis://{redis}:{data['redis_broker_port']}/0"
    if fleet.get("postgres") and secrets.get("postgres_password"):
        postgres = fleet["postgres"][0]["private_ip"]
        env["DATABASE_URL"] = (
            f"postgresql://{data['postgres_user']}:{secrets['postgres_password']}"
            f"@{postgres}:5432/{data['postgres_database']}"
        )
    return env


def plan_nodes(
    outputs: Mapping[str, Any],
    env: str,
    *,
    secrets: Mapping[str, str] | None = None,
    data: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> list[Node]:
    """One Node per host of the outputs, with group data, the fleet and derived settings.

    `data` replaces the group data files (tests); `overrides` wins over everything (what the
    deploy command decides for this run, e.g. the wheel it built).
    """
    secrets = dict(secrets or {})
    defaults = {**(group_data(env) if data is None else data), **(overrides or {})}
    hosts: Mapping[str, list[dict[str, Any]]] = outputs["hosts"]
    unknown = sorted(set(hosts) - set(ROLES_BY_KIND))
    if unknown:
        raise InventoryError(f"hosts.{unknown[0]}: no role runs on this kind of node")
    for kind, entries in hosts.items():
        for index, entry in enumerate(entries):
            for key in ("name", "address"):
                if not entry.get(key) or entry[key] == SECRET_PLACEHOLDER:
                    raise InventoryError(f"hosts.{kind}[{index}].{key} is missing")
    fleet = _fleet(hosts)
    stack = {
        key: value
        for key, value in outputs.items()
        if key != "hosts" and not (isinstance(value, str) and value == SECRET_PLACEHOLDER)
    }
    derived_env = _derived_app_env(fleet, defaults, secrets)
    extra_roles: Mapping[str, list[str]] = defaults.get("extra_roles", {})
    nodes: list[Node] = []
    seen: set[str] = set()
    for kind in ROLES_BY_KIND:
        for entry in hosts.get(kind, []):
            name = str(entry["name"])
            if name in seen:
                raise InventoryError(f"hosts.{kind}: host {name!r} appears twice")
            seen.add(name)
            wanted = set(ROLES_BY_KIND[kind]) | set(extra_roles.get(kind, ()))
            roles = tuple(role for role in ROLE_ORDER if role in wanted)
            host_data = {
                **defaults,
                **{k: v for k, v in entry.items() if k not in {"name", "address"}},
                **secrets,
                "environment": env,
                "node_name": name,
                "node_kind": kind,
                "node_address": str(entry["address"]),
                "roles": list(roles),
                "stack": stack,
                "fleet": fleet,
                "app_env": {
                    **derived_env,
                    **defaults.get("app_env", {}),
                    **entry.get("app_env", {}),
                },
            }
            nodes.append(Node(name, str(entry["address"]), kind, roles, host_data))
    return nodes


def connection_data(node: Node) -> dict[str, Any]:
    """How pyinfra's SSH connector reaches the node: its instance id through SSM, or directly."""
    data = node.data
    via_ssm = data.get("ssh_via") == "ssm" and str(data.get("instance_id", "")).startswith("i-")
    return {
        "ssh_hostname": data["instance_id"] if via_ssm else node.address,
        "ssh_user": data.get("ssh_user"),
        "ssh_port": data.get("ssh_port", 22),
    }


def ssh_config(region: str) -> str:
    """OpenSSH config that reaches `i-*` instance ids through AWS Session Manager."""
    return (
        "Host i-* mi-*\n"
        "    ProxyCommand aws ssm start-session --target %h "
        f"--document-name AWS-StartSSHSession --parameters portNumber=%p --region {region}\n"
        "    StrictHostKeyChecking accept-new\n"
    )


def build_inventory(
    nodes: Iterable[Node],
    *,
    connector: str | None = None,
    names: Mapping[str, str] | None = None,
    only_role: str | None = None,
    override_data: Mapping[str, Any] | None = None,
) -> Any:
    """A pyinfra Inventory: one group per role (`app`) and per node kind (`app_nodes`).

    `connector` (e.g. "@fake") replaces SSH for every host; `names` maps a node's name to its
    pyinfra name (e.g. "@chroot/srv/root"); `only_role` keeps the hosts that run that role and
    runs only it on them.
    """
    from pyinfra.api import Inventory

    entries: list[tuple[str, dict[str, Any]]] = []
    groups: dict[str, list[str]] = {}
    for node in nodes:
        if only_role and only_role not in node.roles:
            continue
        name = node.name
        if names and node.name in names:
            name = names[node.name]
        elif connector:
            name = f"{connector}/{node.name}"
        data = dict(node.data)
        if not name.startswith("@"):
            data.update(connection_data(node))
        if only_role:
            data["roles"] = [only_role]
        entries.append((name, data))
        for group in (f"{node.kind}_nodes", *data["roles"]):
            groups.setdefault(group, []).append(name)
    return Inventory(
        (entries, {}),
        override_data=dict(override_data or {}),
        **{group: (members, {}) for group, members in groups.items()},
    )
