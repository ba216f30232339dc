"""Per-environment values of the stacks, read from `Pulumi.<env>.yaml` (never hard-coded).

The Pulumi program reads them through `pulumi.Config`; `stackyard infra graph|smoke` read the
same file directly, so the plan, the smoke topology and a real `pulumi up` share one source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT = "stackyard"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("dev", "staging", "prod")
# Config keys that only ever arrive as `pulumi config set --secret` values.
SECRET_KEYS = ("redisAuthToken",)
APP_PORT = 8000
SANDBOX_PORT = 8080
NODE_EXPORTER_PORT = 9100


class ConfigError(ValueError):
    """A missing or malformed value in Pulumi.<env>.yaml; the message names the key."""


def stack_file(env: str, root: Path = PROJECT_ROOT) -> Path:
    return root / f"Pulumi.{env}.yaml"


def read_stack_file(env: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The `config:` mapping of Pulumi.<env>.yaml with fully qualified keys (`aws:region`)."""
    path = stack_file(env, root)
    if not path.exists():
        known = ", ".join(sorted(p.name for p in root.glob("Pulumi.*.yaml")))
        raise ConfigError(f"no stack file {path.name} in {root} (found: {known or 'none'})")
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(f"{path.name}: `config` must be a mapping")
    return config


@dataclass(frozen=True)
class GroupSize:
    """Size of one auto-scaling group of VMs."""

    instance_type: str
    min_size: int
    desired: int
    max_size: int

    def __post_init__(self) -> None:
        if not 0 <= self.min_size <= self.desired <= self.max_size:
            raise ConfigError(
                f"group sizes must satisfy 0 <= min <= desired <= max, got "
                f"{self.min_size}/{self.desired}/{self.max_size}"
            )


@dataclass(frozen=True)
class EdgeLocation:
    """Self-managed nginx edge caches in one region (the CDN simulator on real VMs)."""

    region: str
    count: int
    instance_type: str


@dataclass(frozen=True)
class StackConfig:
    """Every per-environment value the components read."""

    env: str
    region: str
    availability_zones: int
    vpc_cidr: str
    nat_gateways: int
    admin_cidr: str
    multi_az: bool
    app: GroupSize
    worker: GroupSize
    separate_services: tuple[str, ...]
    domain: str
    hosted_zone_id: str
    bootstrap: str
    app_package: str
    db_instance_class: str
    db_storage_gb: int
    db_backup_days: int
    postgres_version: str
    redis_node_type: str
    cloudfront: bool
    price_class: str
    uncached_paths: tuple[str, ...]
    edge_locations: tuple[EdgeLocation, ...]
    observability_mode: str
    observability_instance_type: str
    sandbox_count: int
    sandbox_instance_type: str
    alarm_email: str = ""
    extra_tags: Mapping[str, str] = field(default_factory=dict)

    def tags(self, service: str) -> dict[str, str]:
        """Tags every taggable resource carries: who owns it and where it belongs."""
        return {
            **self.extra_tags,
            "environment": self.env,
            "service": service,
            "project": PROJECT,
            "managed-by": "pulumi",
        }

    def name(self, suffix: str) -> str:
        return f"{PROJECT}-{self.env}-{suffix}"

    @property
    def service_groups(self) -> tuple[str, ...]:
        """App groups behind the ALB: the separately deployed apps plus `main` (all the rest)."""
        return ("main", *self.separate_services)


def _size(raw: Any, key: str, default_type: str) -> GroupSize:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"stackyard:{key} must be a mapping with instanceType/min/desired/max")
    desired = int(raw.get("desired", raw.get("count", 1)))
    return GroupSize(
        instance_type=str(raw.get("instanceType", default_type)),
        min_size=int(raw.get("min", desired)),
        desired=desired,
        max_size=int(raw.get("max", desired)),
    )


def _mapping(lookup: Callable[[str], Any], key: str) -> Mapping[str, Any]:
    value = lookup(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"stackyard:{key} must be a mapping")
    return value


def build_config(env: str, region: str, lookup: Callable[[str], Any]) -> StackConfig:
    """Parse the `stackyard:` namespace (through `lookup`) into a StackConfig."""
    database = _mapping(lookup, "database")
    redis = _mapping(lookup, "redis")
    edge = _mapping(lookup, "edge")
    observability = _mapping(lookup, "observability")
    sandbox = _mapping(lookup, "sandbox")
    network = _mapping(lookup, "network")
    azs = int(network.get("availabilityZones", 2))
    if not 2 <= azs <= 3:
        raise ConfigError("stackyard:network.availabilityZones must be 2 or 3")
    bootstrap = str(lookup("bootstrap") or "pyinfra")
    if bootstrap not in {"pyinfra", "pull"}:
        raise ConfigError("stackyard:bootstrap must be pyinfra or pull")
    mode = str(observability.get("mode", "vm"))
    if mode not in {"vm", "managed"}:
        raise ConfigError("stackyard:observability.mode must be vm or managed")
    locations = tuple(
        EdgeLocation(
            region=str(item["region"]),
            count=int(item.get("count", 1)),
            instance_type=str(item.get("instanceType", "t3.micro")),
        )
        for item in edge.get("locations", []) or []
    )
    separate = tuple(str(name) for name in lookup("separateServices") or [])
    if "main" in separate:
        raise ConfigError("stackyard:separateServices cannot name `main` (the monolith group)")
    return StackConfig(
        env=env,
        region=region,
        availability_zones=azs,
        vpc_cidr=str(network.get("cidr", "10.0.0.0/16")),
        nat_gateways=int(network.get("natGateways", 1)),
        admin_cidr=str(network.get("adminCidr", "") or ""),
        multi_az=bool(lookup("multiAz") or False),
        app=_size(lookup("app") or {}, "app", "t3.small"),
        worker=_size(lookup("worker") or {}, "worker", "t3.small"),
        separate_services=separate,
        domain=str(lookup("domain") or ""),
        hosted_zone_id=str(lookup("hostedZoneId") or ""),
        bootstrap=bootstrap,
        app_package=str(lookup("appPackage") or "stackyard"),
        db_instance_class=str(database.get("instanceClass", "db.t4g.micro")),
        db_storage_gb=int(database.get("storageGb", 20)),
        db_backup_days=int(database.get("backupRetentionDays", 7)),
        postgres_version=str(database.get("engineVersion", "16")),
        redis_node_type=str(redis.get("nodeType", "cache.t4g.micro")),
        cloudfront=bool(edge.get("cloudfront", True)),
        price_class=str(edge.get("priceClass", "PriceClass_100")),
        uncached_paths=tuple(str(p) for p in edge.get("uncachedPaths", []) or []),
        edge_locations=locations,
        observability_mode=mode,
        observability_instance_type=str(observability.get("instanceType", "t3.small")),
        sandbox_count=int(sandbox.get("count", 1)),
        sandbox_instance_type=str(sandbox.get("instanceType", "t3.small")),
        alarm_email=str(lookup("alarmEmail") or ""),
        extra_tags=dict(_mapping(lookup, "tags")),
    )


def config_from_file(env: str, root: Path = PROJECT_ROOT) -> StackConfig:
    """The StackConfig of Pulumi.<env>.yaml read straight from disk (no Pulumi engine)."""
    raw = read_stack_file(env, root)
    region = str(raw.get("aws:region") or "")
    if not region:
        raise ConfigError(f"Pulumi.{env}.yaml must set aws:region")
    values = {
        key.split(":", 1)[1]: value for key, value in raw.items() if key.startswith(f"{PROJECT}:")
    }
    return build_config(env, region, values.get)
