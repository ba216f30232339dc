"""Deliberately broken plans: each policy check must notice its own kind of breakage."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from stacks import policy
from stacks.config import config_from_file
from stacks.simulate import RecordedResource, Simulation, simulate_in_subprocess


def _first(sim: Simulation, token: str) -> RecordedResource:
    return sim.of_type(token)[0]


def open_database_to_the_world(sim: Simulation) -> None:
    group = _first(sim, policy.RDS).inputs["vpcSecurityGroupIds"][0]
    sim.resources.append(
        RecordedResource(
            urn="urn:broken",
            type=policy.INGRESS_RULE,
            name="oops-postgres-from-anywhere",
            parent="",
            custom=True,
            id="oops",
            inputs={"securityGroupId": group, "cidrIpv4": "0.0.0.0/0", "fromPort": 5432},
        )
    )


def open_redis_to_the_sandbox(sim: Simulation) -> None:
    redis_group = _first(sim, policy.REDIS).inputs["securityGroupIds"][0]
    sandbox = next(r for r in sim.of_type(policy.SG) if r.inputs["tags"]["role"] == "sandbox")
    rule = next(
        r for r in sim.of_type(policy.INGRESS_RULE) if r.inputs["securityGroupId"] == redis_group
    )
    rule.inputs["referencedSecurityGroupId"] = sandbox.id


def unencrypt_database(sim: Simulation) -> None:
    _first(sim, policy.RDS).inputs["storageEncrypted"] = False


def unencrypt_launch_template(sim: Simulation) -> None:
    template = _first(sim, "aws:ec2/launchTemplate:LaunchTemplate")
    template.inputs["blockDeviceMappings"][0]["ebs"]["encrypted"] = "false"


def drop_a_tag(sim: Simulation) -> None:
    del _first(sim, "aws:rds/subnetGroup:SubnetGroup").inputs["tags"]["service"]


def health_check_health_not_ready(sim: Simulation) -> None:
    _first(sim, policy.TARGET_GROUP).inputs["healthCheck"]["path"] = "/health"


def scale_workers_off_config(sim: Simulation) -> None:
    next(r for r in sim.of_type(policy.ASG) if r.name == "fleet-worker").inputs[
        "desiredCapacity"
    ] += 1


def evicting_broker(sim: Simulation) -> None:
    group = next(
        r
        for r in sim.of_type("aws:elasticache/parameterGroup:ParameterGroup")
        if "broker" in r.name
    )
    group.inputs["parameters"][0]["value"] = "allkeys-lru"


BREAKAGES: list[tuple[Callable[[Simulation], None], Callable[[Simulation], list[str]]]] = [
    (open_database_to_the_world, policy.open_stores),
    (open_redis_to_the_sandbox, policy.open_stores),
    (unencrypt_database, policy.unencrypted),
    (unencrypt_launch_template, policy.unencrypted),
    (drop_a_tag, policy.untagged),
    (health_check_health_not_ready, policy.health_checks),
    (scale_workers_off_config, lambda sim: policy.instance_counts(sim, config_from_file("prod"))),
    (evicting_broker, policy.broker_noeviction),
]


@pytest.mark.parametrize(("breakage", "check"), BREAKAGES, ids=[b.__name__ for b, _ in BREAKAGES])
def test_policy_fails_on_a_broken_plan(simulations, breakage, check):
    sim = copy.deepcopy(simulations["prod"])
    assert check(sim) == []
    breakage(sim)
    assert check(sim) != []
    assert policy.all_violations(sim, config_from_file("prod")) != []


def test_program_run_with_a_broken_dev_config_fails_policy():
    """The whole path: a dev config that turns on multi-AZ and grows the app group yields a
    plan that the dev policy (single-AZ, sizes as in Pulumi.dev.yaml) rejects."""
    broken = simulate_in_subprocess(
        "dev",
        overrides={
            "stackyard:multiAz": True,
            "stackyard:app": {"instanceType": "t3.small", "min": 1, "desired": 3, "max": 4},
        },
    )
    assert policy.multi_az(broken, expected=False) != []
    problems = policy.instance_counts(broken, config_from_file("dev"))
    assert any("fleet-app-main" in problem for problem in problems)
