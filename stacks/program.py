"""The Pulumi program: read the stack's config, compose the components, export the outputs.

Nothing here runs at import; `main()` is called by `stacks/__main__.py` under `pulumi up`
and by `stacks.simulate` under mocks.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from stacks.config import PROJECT, StackConfig, build_config
from stacks.data import Data, DataArgs
from stacks.edge import Edge, EdgeArgs
from stacks.fleet import Fleet, FleetArgs
from stacks.network import Network, NetworkArgs
from stacks.observability import Observability, ObservabilityArgs
from stacks.sandbox import Sandbox, SandboxArgs

HOST_ROLES = ("app", "worker", "edge", "observability", "sandbox")


def read_config() -> StackConfig:
    """The StackConfig of the running stack (`pulumi config`)."""
    region = pulumi.Config("aws").require("region")
    values = pulumi.Config(PROJECT)

    def lookup(key: str) -> Any:
        # Structured values arrive JSON-encoded, plain strings as they are.
        raw = values.get(key)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    return build_config(pulumi.get_stack(), region, lookup)


def build(cfg: StackConfig, redis_auth_token: pulumi.Input[str]) -> dict[str, Any]:
    """Create every component for `cfg` and return the stack outputs."""
    zones = aws.get_availability_zones(state="available").names
    network = Network("network", NetworkArgs(config=cfg, availability_zones=list(zones)))
    data = Data("data", DataArgs(config=cfg, network=network, redis_auth_token=redis_auth_token))
    fleet = Fleet(
        "fleet",
        FleetArgs(config=cfg, network=network, readable_secret_arns=[data.database_secret_arn]),
    )
    edge = Edge("edge", EdgeArgs(config=cfg, alb_dns_name=fleet.alb.dns_name))
    observability = Observability(
        "observability",
        ObservabilityArgs(
            config=cfg,
            network=network,
            alb_arn_suffix=fleet.alb.arn_suffix,
            database_identifier=data.database.identifier,
        ),
    )
    sandbox = Sandbox("sandbox", SandboxArgs(config=cfg, network=network))
    hosts = {
        "app": fleet.hosts["app"],
        "worker": fleet.hosts["worker"],
        "edge": edge.hosts,
        "observability": observability.hosts,
        "sandbox": sandbox.hosts,
    }
    return {
        "environment": cfg.env,
        "region": cfg.region,
        "albDnsName": fleet.alb.dns_name,
        "cloudfrontDomain": edge.distribution.domain_name if edge.distribution else "",
        "staticBucket": edge.bucket.bucket,
        "databaseEndpoint": pulumi.Output.secret(data.database.endpoint),
        "redisEndpoint": pulumi.Output.secret(data.cache.primary_endpoint_address),
        "brokerEndpoint": pulumi.Output.secret(data.broker.primary_endpoint_address),
        "hosts": hosts,
    }


def main() -> None:
    """Entry point under the Pulumi engine."""
    cfg = read_config()
    outputs = build(cfg, pulumi.Config(PROJECT).require_secret("redisAuthToken"))
    for key, value in outputs.items():
        pulumi.export(key, value)
