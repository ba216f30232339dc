"""What every VM shares: the image, the instance role, the first-boot script, its host entry."""

from __future__ import annotations

import base64
import json
import shlex

import pulumi
import pulumi_aws as aws

from stacks.config import StackConfig

UBUNTU_OWNER = "099720109477"  # Canonical
UBUNTU_IMAGE = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
GROUP_TAG = "stackyard:group"
ROLE_TAG = "stackyard:role"
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def ubuntu_ami(
    parent: pulumi.Resource, provider: pulumi.ProviderResource | None = None
) -> pulumi.Output[str]:
    """The newest Ubuntu 24.04 image of the region (the SSM agent is preinstalled)."""
    result = aws.ec2.get_ami_output(
        most_recent=True,
        owners=[UBUNTU_OWNER],
        filters=[{"name": "name", "values": [UBUNTU_IMAGE]}],
        opts=pulumi.InvokeOutputOptions(parent=parent, provider=provider),
    )
    return result.id


def user_data(cfg: StackConfig, role: str, apps: tuple[str, ...] = ()) -> str:
    """First-boot script: make the node ready for pyinfra, or pull and start the app.

    `pyinfra` mode only installs Python and writes the node's identity, so `roles/` does the
    rest from the stack outputs; `pull` mode installs the package and starts the role's unit.
    Secrets are never in user data: nodes read them from SSM Parameter Store at start.
    """
    identity = {
        "STACKYARD_ENV": cfg.env,
        "STACKYARD_ROLE": role,
        "STACKYARD_APPS": ",".join(apps),
        "STACKYARD_PARAMETERS": f"/stackyard/{cfg.env}/",
        "AWS_REGION": cfg.region,
    }
    lines = [
        "#!/bin/bash",
        "set -euo pipefail",
        "install -d -m 0755 /etc/stackyard",
        *(
            f"echo {shlex.quote(f'{k}={v}')} >> /etc/stackyard/node.env"
            for k, v in identity.items()
        ),
        "export DEBIAN_FRONTEND=noninteractive",
        "apt-get update -qq",
        "apt-get install -y -qq python3 python3-venv prometheus-node-exporter",
        "id stackyard >/dev/null 2>&1 || useradd --system --create-home stackyard",
    ]
    if cfg.bootstrap == "pull" and role in {"app", "worker"}:
        command = "serve --host 0.0.0.0 --port 8000" if role == "app" else "worker"
        lines += [
            "python3 -m venv /opt/stackyard",
            f"/opt/stackyard/bin/pip install --quiet {shlex.quote(cfg.app_package)}",
            "cat > /etc/systemd/system/stackyard.service <<'UNIT'",
            "[Unit]",
            f"Description=stackyard {role}",
            "After=network-online.target",
            "[Service]",
            "User=stackyard",
            "EnvironmentFile=/etc/stackyard/node.env",
            "EnvironmentFile=-/etc/stackyard/app.env",
            f"ExecStart=/opt/stackyard/bin/stackyard {command}",
            "Restart=always",
            "[Install]",
            "WantedBy=multi-user.target",
            "UNIT",
            "systemctl daemon-reload",
            "systemctl enable --now stackyard.service",
        ]
    lines.append("touch /etc/stackyard/bootstrapped")
    return "\n".join(lines) + "\n"


def encoded_user_data(cfg: StackConfig, role: str, apps: tuple[str, ...] = ()) -> str:
    """Launch templates take user data base64-encoded."""
    return base64.b64encode(user_data(cfg, role, apps).encode()).decode()


def instance_profile(
    name: str,
    cfg: StackConfig,
    service: str,
    parent: pulumi.Resource,
    extra_policy: pulumi.Input[str] | None = None,
    managed: tuple[str, ...] = (),
) -> aws.iam.InstanceProfile:
    """An instance role with SSM Session Manager (the SSH alternative) plus what the role needs."""
    child = pulumi.ResourceOptions(parent=parent)
    tags = cfg.tags(service)
    role = aws.iam.Role(
        f"{name}-role",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
        tags=tags,
        opts=child,
    )
    for index, arn in enumerate((SSM_CORE, *managed)):
        aws.iam.RolePolicyAttachment(
            f"{name}-policy-{index}", role=role.name, policy_arn=arn, opts=child
        )
    if extra_policy is not None:
        aws.iam.RolePolicy(f"{name}-inline", role=role.id, policy=extra_policy, opts=child)
    return aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=tags, opts=child)


def encrypted_root(size_gb: int = 20) -> list[dict[str, object]]:
    return [
        {
            "device_name": "/dev/sda1",
            "ebs": {
                "volume_size": size_gb,
                "volume_type": "gp3",
                "encrypted": "true",
                "delete_on_termination": "true",
            },
        }
    ]


def fixed_hosts(
    instances: dict[str, aws.ec2.Instance], public: bool = False
) -> pulumi.Output[list]:
    """Host entries of individually created VMs, in the shape roles/ reads."""
    entries = [
        pulumi.Output.all(instance.id, instance.private_ip, instance.public_ip).apply(
            lambda values, host=host: {
                "name": host,
                "address": values[2] if public and values[2] else values[1],
                "instance_id": values[0],
                "private_ip": values[1],
            }
        )
        for host, instance in instances.items()
    ]
    return pulumi.Output.all(*entries).apply(list)


def group_hosts(
    group_tag: str, waits_for: pulumi.Resource, parent: pulumi.Resource
) -> pulumi.Output[list]:
    """Host entries of an auto-scaling group's running instances, read after it reached capacity.

    A snapshot taken at `pulumi up`; re-run `pulumi up` (or `pulumi refresh`) after scaling.
    """
    found = aws.ec2.get_instances_output(
        instance_tags={GROUP_TAG: group_tag},
        instance_state_names=["pending", "running"],
        opts=pulumi.InvokeOutputOptions(parent=parent, depends_on=[waits_for]),
    )
    return found.apply(
        lambda result: [
            {
                "name": instance_id,
                "address": address,
                "instance_id": instance_id,
                "group": group_tag,
            }
            for instance_id, address in zip(result.ids, result.private_ips, strict=False)
        ]
    )
