"""The policy every environment's plan must satisfy, and proof that each check can fail."""

from __future__ import annotations

import pytest

from stacks import policy
from stacks.config import ENVIRONMENTS
from stacks.program import HOST_ROLES
from stacks.simulate import SIMULATED_SECRET

each_env = pytest.mark.parametrize("env", ENVIRONMENTS)


@each_env
def test_no_security_group_opens_the_database_or_redis(simulations, env):
    assert policy.open_stores(simulations[env]) == []
    assert policy._store_groups(simulations[env]), "the check must find the stores' groups"


@each_env
def test_storage_is_encrypted(simulations, env):
    assert policy.unencrypted(simulations[env]) == []


@each_env
def test_every_taggable_resource_is_tagged_with_environment_and_service(simulations, env):
    sim = simulations[env]
    assert policy.untagged(sim) == []
    checked = [r for r in sim.resources if r.custom and policy.accepts_tags(r.type)]
    assert len(checked) > 40
    assert not policy.accepts_tags("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


@each_env
def test_alb_health_checks_target_ready(simulations, env):
    assert policy.health_checks(simulations[env]) == []


@each_env
def test_instance_counts_follow_config(simulations, configs, env):
    assert policy.instance_counts(simulations[env], configs[env]) == []


@each_env
def test_sandbox_has_no_way_out(simulations, env):
    assert policy.sandbox_isolated(simulations[env]) == []


@each_env
def test_celery_broker_never_evicts(simulations, env):
    assert policy.broker_noeviction(simulations[env]) == []


@each_env
def test_outputs_have_the_host_list_shape_roles_reads(simulations, env):
    outputs = simulations[env].outputs
    assert set(outputs["hosts"]) == set(HOST_ROLES)
    for role, hosts in outputs["hosts"].items():
        for host in hosts:
            assert host["name"] and host["address"], (role, host)
    assert outputs["albDnsName"].endswith(".elb.amazonaws.com")
    assert outputs["cloudfrontDomain"].endswith(".cloudfront.net")


@each_env
def test_endpoints_are_secret_outputs_and_no_secret_is_recorded(simulations, env):
    sim = simulations[env]
    assert {"databaseEndpoint", "redisEndpoint", "brokerEndpoint"} <= set(sim.secret_outputs)
    assert SIMULATED_SECRET not in sim.to_json()


def test_prod_is_multi_az_and_enables_every_component(simulations):
    sim = simulations["prod"]
    assert policy.multi_az(sim, expected=True) == []
    types = {r.type for r in sim.resources}
    for token in (
        "aws:ec2/vpc:Vpc",
        "aws:autoscaling/group:Group",
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:cloudfront/distribution:Distribution",
        "aws:rds/instance:Instance",
        "aws:elasticache/replicationGroup:ReplicationGroup",
    ):
        assert token in types


def test_dev_is_not_multi_az(simulations):
    assert policy.multi_az(simulations["dev"], expected=False) == []
    assert policy.multi_az(simulations["dev"], expected=True) != []


def test_identity_is_routed_under_auth_to_its_own_target_group(simulations):
    sim = simulations["staging"]
    rule = next(r for r in sim.of_type("aws:lb/listenerRule:ListenerRule") if "identity" in r.name)
    assert rule.inputs["conditions"][0]["pathPattern"]["values"] == ["/auth", "/auth/*"]
    assert rule.inputs["actions"][0]["targetGroupArn"].endswith(":fleet-identity")
    groups = {r.name for r in sim.of_type("aws:lb/targetGroup:TargetGroup")}
    assert groups == {"fleet-main", "fleet-identity"}
