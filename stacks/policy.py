"""Policy over what the program would create (a `Simulation`): each check returns the
violations it finds, as sentences naming the resource, so a test or `stackyard infra check`
can print them. An empty list means the policy holds."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from stacks.config import StackConfig
from stacks.fleet import HEALTH_CHECK_PATH
from stacks.simulate import RecordedResource, Simulation

WORLD = {"0.0.0.0/0", "::/0"}
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
RDS = "aws:rds/instance:Instance"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
ASG = "aws:autoscaling/group:Group"
INSTANCE = "aws:ec2/instance:Instance"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"


@functools.cache
def accepts_tags(token: str) -> bool:
    """Whether the pulumi_aws resource class behind `token` takes a `tags` argument."""
    package, module_path, _ = [*token.split(":"), "", ""][:3]
    if package != "aws" or "/" not in module_path:
        return False
    module_name, _ = module_path.split("/", 1)
    class_name = token.rsplit(":", 1)[1]
    module = importlib.import_module(
        "pulumi_aws" if module_name == "index" else f"pulumi_aws.{module_name}"
    )
    resource_class = getattr(module, class_name, None)
    if resource_class is None:
        return False
    return "tags" in inspect.signature(resource_class._internal_init).parameters


def _tags(resource: RecordedResource) -> dict[str, Any]:
    tags = resource.inputs.get("tags") or {}
    if isinstance(tags, list):  # auto-scaling groups: [{key, value, propagateAtLaunch}]
        return {item.get("key"): item.get("value") for item in tags}
    return dict(tags)


def untagged(sim: Simulation) -> list[str]:
    """Every resource whose type takes tags carries `environment` (this env) and `service`."""
    problems = []
    for resource in sim.resources:
        if not resource.custom or not accepts_tags(resource.type):
            continue
        tags = _tags(resource)
        if tags.get("environment") != sim.env or not tags.get("service"):
            problems.append(
                f"{resource.type} {resource.name} lacks environment={sim.env}/service tags"
            )
    return problems


def _store_groups(sim: Simulation) -> dict[str, str]:
    """Security-group ids attached to a database or Redis, with what they guard."""
    guarded: dict[str, str] = {}
    for resource in sim.of_type(RDS):
        for group in resource.inputs.get("vpcSecurityGroupIds", []):
            guarded[group] = f"database {resource.name}"
    for resource in sim.of_type(REDIS):
        for group in resource.inputs.get("securityGroupIds", []):
            guarded[group] = f"Redis {resource.name}"
    return guarded


def open_stores(sim: Simulation) -> list[str]:
    """No rule opens a database's or Redis's group to a CIDR (least of all 0.0.0.0/0): the
    only sources allowed are the app and worker groups."""
    guarded = _store_groups(sim)
    by_id = sim.by_id()
    allowed = {
        resource.id
        for resource in sim.of_type(SG)
        if _tags(resource).get("role") in {"app", "worker"}
    }
    problems = []
    for group_id, what in guarded.items():
        group = by_id.get(group_id)
        for rule in (group.inputs.get("ingress", []) if group else []) or []:
            cidrs = set(rule.get("cidrBlocks", []) or []) | set(
                rule.get("ipv6CidrBlocks", []) or []
            )
            if cidrs:
                problems.append(f"{what}: inline ingress from {sorted(cidrs)}")
    for rule in sim.of_type(INGRESS_RULE) + sim.of_type(LEGACY_RULE):
        rule_group = str(rule.inputs.get("securityGroupId"))
        if rule_group not in guarded or rule.inputs.get("type", "ingress") != "ingress":
            continue
        cidrs = {
            rule.inputs.get("cidrIpv4"),
            rule.inputs.get("cidrIpv6"),
            *(rule.inputs.get("cidrBlocks") or []),
        } - {None, ""}
        source = rule.inputs.get("referencedSecurityGroupId") or rule.inputs.get(
            "sourceSecurityGroupId"
        )
        if cidrs & WORLD:
            problems.append(f"{guarded[rule_group]} open to the world by {rule.name}")
        elif cidrs:
            problems.append(f"{guarded[rule_group]} open to {sorted(cidrs)} by {rule.name}")
        elif source not in allowed:
            problems.append(
                f"{guarded[rule_group]} reachable from a non app/worker group ({rule.name})"
            )
    for resource in sim.of_type(RDS):
        if resource.inputs.get("publiclyAccessible"):
            problems.append(f"database {resource.name} is publicly accessible")
    return problems


def unencrypted(sim: Simulation) -> list[str]:
    """Storage is encrypted at rest everywhere, Redis in transit too (with an auth token)."""
    problems = []
    for resource in sim.of_type(RDS):
        if resource.inputs.get("storageEncrypted") is not True:
            problems.append(f"database {resource.name} storage is not encrypted")
    for resource in sim.of_type(REDIS):
        for flag in ("atRestEncryptionEnabled", "transitEncryptionEnabled"):
            if resource.inputs.get(flag) is not True:
                problems.append(f"Redis {resource.name}: {flag} is not set")
        if not resource.inputs.get("authToken"):
            problems.append(f"Redis {resource.name} has no auth token")
    for resource in sim.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        mappings = resource.inputs.get("blockDeviceMappings") or []
        if not mappings or any(
            str((m.get("ebs") or {}).get("encrypted")).lower() != "true" for m in mappings
        ):
            problems.append(f"launch template {resource.name} has an unencrypted volume")
    for resource in sim.of_type(INSTANCE):
        if (resource.inputs.get("rootBlockDevice") or {}).get("encrypted") is not True:
            problems.append(f"instance {resource.name} root volume is not encrypted")
    encrypted_buckets = {
        r.inputs.get("bucket")
        for r in sim.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
    }
    for resource in sim.of_type("aws:s3/bucket:Bucket"):
        if resource.id not in encrypted_buckets:
            problems.append(f"bucket {resource.name} has no server-side encryption configuration")
    return problems


def multi_az(sim: Simulation, expected: bool) -> list[str]:
    """The stores are multi-AZ exactly when the environment says so (prod yes, dev no)."""
    problems = []
    for resource in sim.of_type(RDS):
        if bool(resource.inputs.get("multiAz")) != expected:
            problems.append(f"database {resource.name}: multiAz is not {expected}")
    for resource in sim.of_type(REDIS):
        if bool(resource.inputs.get("multiAzEnabled")) != expected:
            problems.append(f"Redis {resource.name}: multiAzEnabled is not {expected}")
    zones = {r.inputs.get("availabilityZone") for r in sim.of_type("aws:ec2/subnet:Subnet")}
    if expected and len(zones - {None}) < 2:
        problems.append(f"subnets span {len(zones)} availability zone(s)")
    return problems


def health_checks(sim: Simulation) -> list[str]:
    """Every target group checks /ready (database migrated and reachable, Redis reachable)."""
    groups = sim.of_type(TARGET_GROUP)
    problems = [] if groups else ["no target group"]
    for resource in groups:
        path = (resource.inputs.get("healthCheck") or {}).get("path")
        if path != HEALTH_CHECK_PATH:
            problems.append(
                f"target group {resource.name} checks {path!r}, not {HEALTH_CHECK_PATH}"
            )
    return problems


def instance_counts(sim: Simulation, cfg: StackConfig) -> list[str]:
    """Group sizes, fixed VMs and the host lists follow the config."""
    problems = []
    groups = {r.name: r.inputs for r in sim.of_type(ASG)}
    expected_groups = {f"fleet-app-{g}": cfg.app for g in cfg.service_groups}
    expected_groups["fleet-worker"] = cfg.worker
    if set(groups) != set(expected_groups):
        problems.append(f"auto-scaling groups {sorted(groups)} != {sorted(expected_groups)}")
    for name, size in expected_groups.items():
        got = groups.get(name, {})
        actual = (got.get("minSize"), got.get("desiredCapacity"), got.get("maxSize"))
        if actual != (size.min_size, size.desired, size.max_size):
            problems.append(f"{name} sizes {actual} != config {size}")
    roles: dict[str, int] = {}
    for resource in sim.of_type(INSTANCE):
        role = _tags(resource).get("stackyard:role", "?")
        roles[role] = roles.get(role, 0) + 1
    wanted = {
        "sandbox": cfg.sandbox_count,
        "edge": sum(location.count for location in cfg.edge_locations),
        "observability": 1,
    }
    for role, count in wanted.items():
        if roles.get(role, 0) != count:
            problems.append(f"{roles.get(role, 0)} {role} instance(s), config says {count}")
    hosts = sim.outputs.get("hosts", {})
    expected_hosts = {
        "app": cfg.app.desired * len(cfg.service_groups),
        "worker": cfg.worker.desired,
        **wanted,
    }
    for role, count in expected_hosts.items():
        if len(hosts.get(role, [])) != count:
            problems.append(f"hosts[{role!r}] lists {len(hosts.get(role, []))}, expected {count}")
    return problems


def sandbox_isolated(sim: Simulation) -> list[str]:
    """The sandbox group has no egress to the internet and sits in subnets with no route out."""
    problems = []
    sandbox_groups = {r.id for r in sim.of_type(SG) if _tags(r).get("role") == "sandbox"}
    for rule in sim.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"):
        if rule.inputs.get("securityGroupId") in sandbox_groups and rule.inputs.get("cidrIpv4"):
            problems.append(f"sandbox egress to {rule.inputs['cidrIpv4']} ({rule.name})")
    isolated = [
        r
        for r in sim.of_type("aws:ec2/routeTable:RouteTable")
        if _tags(r).get("tier") == "isolated"
    ]
    for table in isolated:
        if table.inputs.get("routes"):
            problems.append(f"isolated route table {table.name} has routes out")
    for resource in sim.of_type(INSTANCE):
        if _tags(resource).get("stackyard:role") == "sandbox" and (
            set(resource.inputs.get("vpcSecurityGroupIds", [])) - sandbox_groups
        ):
            problems.append(f"sandbox host {resource.name} is in a non-sandbox group")
    return problems


def broker_noeviction(sim: Simulation) -> list[str]:
    """The Celery broker's Redis never evicts (an evicted task is a lost task)."""
    for resource in sim.of_type("aws:elasticache/parameterGroup:ParameterGroup"):
        if "broker" in resource.name:
            values = {p["name"]: p["value"] for p in resource.inputs.get("parameters", [])}
            return (
                []
                if values.get("maxmemory-policy") == "noeviction"
                else [f"broker parameter group {resource.name} evicts ({values})"]
            )
    return ["no parameter group for the Celery broker"]


def all_violations(sim: Simulation, cfg: StackConfig) -> list[str]:
    """Every policy at once (what `stackyard infra check ENV` prints)."""
    checks: list[Callable[[], list[str]]] = [
        lambda: untagged(sim),
        lambda: open_stores(sim),
        lambda: unencrypted(sim),
        lambda: multi_az(sim, cfg.multi_az),
        lambda: health_checks(sim),
        lambda: instance_counts(sim, cfg),
        lambda: sandbox_isolated(sim),
        lambda: broker_noeviction(sim),
    ]
    return [problem for check in checks for problem in check()]
