"""Sandbox: isolated hosts for the code-execution service. They sit in subnets with no route
out, in a group with no egress but to the SSM endpoints, and take jobs only from the app group."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.config import StackConfig
from stacks.network import Network
from stacks.nodes import GROUP_TAG, ROLE_TAG, fixed_hosts, instance_profile, ubuntu_ami, user_data

# Interface endpoints Session Manager needs on a host without internet.
SSM_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages")


@dataclass
class SandboxArgs:
    config: StackConfig
    network: Network


class Sandbox(pulumi.ComponentResource):
    """Where untrusted code runs: nothing it does can reach the internet or the data stores."""

    hosts: pulumi.Output[list]

    def __init__(
        self, name: str, args: SandboxArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stackyard:sandbox:Sandbox", name, None, opts)
        cfg, network = args.config, args.network
        tags = cfg.tags("sandbox")
        child = pulumi.ResourceOptions(parent=self)
        for service in SSM_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{service}",
                vpc_id=network.vpc.id,
                service_name=f"com.amazonaws.{cfg.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=network.isolated_subnet_ids,
                security_group_ids=[network.groups["endpoints"].id],
                tags=tags,
                opts=child,
            )
        profile = instance_profile(f"{name}-node", cfg, "sandbox", self)
        image = ubuntu_ami(self)
        subnets = network.isolated_subnet_ids
        instances = {
            f"sandbox-{index}": aws.ec2.Instance(
                f"{name}-{index}",
                ami=image,
                instance_type=cfg.sandbox_instance_type,
                subnet_id=subnets[index % len(subnets)],
                associate_public_ip_address=False,
                vpc_security_group_ids=[network.groups["sandbox"].id],
                iam_instance_profile=profile.name,
                # No apt on a host without internet: images come from sandbox-images/ via SSM.
                user_data=user_data_offline(cfg),
                metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
                root_block_device={"encrypted": True, "volume_type": "gp3", "volume_size": 30},
                tags={**tags, ROLE_TAG: "sandbox", GROUP_TAG: "sandbox"},
                opts=child,
            )
            for index in range(cfg.sandbox_count)
        }
        self.hosts = fixed_hosts(instances)
        self.register_outputs({"hosts": self.hosts})


def user_data_offline(cfg: StackConfig) -> str:
    """The node identity lines of the usual first-boot script, without any package download."""
    lines = user_data(cfg, "sandbox").splitlines()
    return (
        "\n".join(line for line in lines if not line.startswith(("apt-get", "export DEB"))) + "\n"
    )
