"""Fleet: app VMs in auto-scaling groups behind an ALB (one target group per deployed
service, path routing, health checks on /ready) and the Celery worker group."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from stacks.config import APP_PORT, StackConfig
from stacks.network import Network
from stacks.nodes import (
    GROUP_TAG,
    ROLE_TAG,
    encoded_user_data,
    encrypted_root,
    group_hosts,
    instance_profile,
    ubuntu_ami,
)

HEALTH_CHECK_PATH = "/ready"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def base_path(app: str) -> str:
    """Where the gateway mounts an app: identity at /auth, every other app at /<app>."""
    return "/auth" if app == "identity" else f"/{app}"


@dataclass
class FleetArgs:
    config: StackConfig
    network: Network
    # Secrets Manager / SSM ARNs the nodes may read at start (database password, Redis URLs).
    readable_secret_arns: list[pulumi.Input[str]] = field(default_factory=list)


class Fleet(pulumi.ComponentResource):
    """Everything that serves requests or runs tasks, and the load balancer in front."""

    alb: aws.lb.LoadBalancer
    target_groups: dict[str, aws.lb.TargetGroup]
    groups: dict[str, aws.autoscaling.Group]
    certificate_arn: pulumi.Output[str] | None
    hosts: dict[str, pulumi.Output[list]]

    def __init__(self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("stackyard:fleet:Fleet", name, None, opts)
        cfg, network = args.config, args.network
        self._cfg, self._name = cfg, name
        tags = cfg.tags("fleet")
        child = pulumi.ResourceOptions(parent=self)
        parameters = f"arn:aws:ssm:{cfg.region}:*:parameter/stackyard/{cfg.env}/*"
        policy = pulumi.Output.all(*args.readable_secret_arns).apply(
            lambda arns: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["ssm:GetParameter", "ssm:GetParametersByPath"],
                            "Resource": parameters,
                        },
                        *(
                            [
                                {
                                    "Effect": "Allow",
                                    "Action": "secretsmanager:GetSecretValue",
                                    "Resource": list(arns),
                                }
                            ]
                            if arns
                            else []
                        ),
                    ],
                }
            )
        )
        profile = instance_profile(f"{name}-nodes", cfg, "fleet", self, extra_policy=policy)
        image = ubuntu_ami(self)

        self.alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            security_groups=[network.groups["alb"].id],
            subnets=network.public_subnet_ids,
            drop_invalid_header_fields=True,
            idle_timeout=60,
            tags=tags,
            opts=child,
        )
        self.target_groups = {
            group: aws.lb.TargetGroup(
                f"{name}-{group}",
                port=APP_PORT,
                protocol="HTTP",
                target_type="instance",
                vpc_id=network.vpc.id,
                deregistration_delay=30,
                health_check={
                    "path": HEALTH_CHECK_PATH,
                    "matcher": "200",
                    "interval": 15,
                    "timeout": 5,
                    "healthy_threshold": 2,
                    "unhealthy_threshold": 3,
                },
                tags={**tags, GROUP_TAG: group},
                opts=child,
            )
            for group in cfg.service_groups
        }
        listener = self._listeners(name, tags)
        self._path_rules(name, listener, tags)

        self.groups = {}
        self.hosts = {"app": pulumi.Output.from_input([]), "worker": pulumi.Output.from_input([])}
        app_hosts = []
        for group in cfg.service_groups:
            apps = () if group == "main" else (group,)
            self.groups[group] = self._group(
                f"{name}-app-{group}",
                "app",
                group,
                cfg.app.instance_type,
                (cfg.app.min_size, cfg.app.desired, cfg.app.max_size),
                apps,
                image,
                profile,
                [network.groups["app"].id],
                network.private_subnet_ids,
                [self.target_groups[group].arn],
            )
            app_hosts.append(group_hosts(f"app-{group}", self.groups[group], self))
        self.groups["worker"] = self._group(
            f"{name}-worker",
            "worker",
            "worker",
            cfg.worker.instance_type,
            (cfg.worker.min_size, cfg.worker.desired, cfg.worker.max_size),
            (),
            image,
            profile,
            [network.groups["worker"].id],
            network.private_subnet_ids,
            [],
        )
        self.hosts["app"] = pulumi.Output.all(*app_hosts).apply(
            lambda lists: [host for hosts in lists for host in hosts]
        )
        self.hosts["worker"] = group_hosts("worker", self.groups["worker"], self)
        self.register_outputs(
            {
                "albDnsName": self.alb.dns_name,
                "albArnSuffix": self.alb.arn_suffix,
                "appHosts": self.hosts["app"],
                "workerHosts": self.hosts["worker"],
            }
        )

    def _listeners(self, name: str, tags: dict[str, str]) -> aws.lb.Listener:
        """HTTPS with an ACM certificate when a domain is configured (HTTP redirects to it);
        plain HTTP otherwise. Returns the listener that forwards to the targets."""
        cfg = self._cfg
        child = pulumi.ResourceOptions(parent=self)
        forward_main = [{"type": "forward", "target_group_arn": self.target_groups["main"].arn}]
        self.certificate_arn = None
        if not cfg.domain:
            return aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=self.alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=forward_main,
                tags=tags,
                opts=child,
            )
        self.certificate_arn = validated_certificate(
            f"{name}-cert", cfg.domain, cfg.hosted_zone_id, tags, self
        )
        if cfg.hosted_zone_id:
            aws.route53.Record(
                f"{name}-origin-record",
                zone_id=cfg.hosted_zone_id,
                name=f"origin.{cfg.domain}",
                type="A",
                aliases=[
                    {
                        "name": self.alb.dns_name,
                        "zone_id": self.alb.zone_id,
                        "evaluate_target_health": True,
                    }
                ],
                opts=child,
            )
        aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                {
                    "type": "redirect",
                    "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"},
                }
            ],
            tags=tags,
            opts=child,
        )
        return aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=self.certificate_arn,
            default_actions=forward_main,
            tags=tags,
            opts=child,
        )

    def _path_rules(self, name: str, listener: aws.lb.Listener, tags: dict[str, str]) -> None:
        """`/auth/*` to identity and so on; /metrics is only for Prometheus, inside the VPC."""
        child = pulumi.ResourceOptions(parent=self)
        aws.lb.ListenerRule(
            f"{name}-hide-metrics",
            listener_arn=listener.arn,
            priority=1,
            conditions=[{"path_pattern": {"values": ["/metrics", "/metrics/*"]}}],
            actions=[
                {
                    "type": "fixed-response",
                    "fixed_response": {
                        "content_type": "application/problem+json",
                        "status_code": "404",
                        "message_body": '{"status":404,"title":"Not Found"}',
                    },
                }
            ],
            tags=tags,
            opts=child,
        )
        for index, app in enumerate(self._cfg.separate_services):
            prefix = base_path(app)
            aws.lb.ListenerRule(
                f"{name}-route-{app}",
                listener_arn=listener.arn,
                priority=10 + index,
                conditions=[{"path_pattern": {"values": [prefix, f"{prefix}/*"]}}],
                actions=[{"type": "forward", "target_group_arn": self.target_groups[app].arn}],
                tags={**tags, GROUP_TAG: app},
                opts=child,
            )

    def _group(
        self,
        name: str,
        role: str,
        group: str,
        instance_type: str,
        sizes: tuple[int, int, int],
        apps: tuple[str, ...],
        image: pulumi.Output[str],
        profile: aws.iam.InstanceProfile,
        security_groups: list[pulumi.Output[str]],
        subnets: list[pulumi.Output[str]],
        target_groups: list[pulumi.Output[str]],
    ) -> aws.autoscaling.Group:
        cfg = self._cfg
        child = pulumi.ResourceOptions(parent=self)
        group_tag = f"app-{group}" if role == "app" else group
        tags = {**cfg.tags("fleet"), ROLE_TAG: role, GROUP_TAG: group_tag}
        template = aws.ec2.LaunchTemplate(
            name,
            image_id=image,
            instance_type=instance_type,
            iam_instance_profile={"arn": profile.arn},
            vpc_security_group_ids=security_groups,
            user_data=encoded_user_data(cfg, role, apps),
            metadata_options={"http_tokens": "required", "http_endpoint": "enabled"},
            block_device_mappings=encrypted_root(),
            tag_specifications=[
                {"resource_type": "instance", "tags": tags},
                {"resource_type": "volume", "tags": tags},
            ],
            update_default_version=True,
            tags=tags,
            opts=child,
        )
        minimum, desired, maximum = sizes
        return aws.autoscaling.Group(
            name,
            min_size=minimum,
            desired_capacity=desired,
            max_size=maximum,
            vpc_zone_identifiers=subnets,
            launch_template={"id": template.id, "version": "$Latest"},
            target_group_arns=target_groups,
            health_check_type="ELB" if target_groups else "EC2",
            health_check_grace_period=300,
            instance_refresh={"strategy": "Rolling", "preferences": {"min_healthy_percentage": 50}},
            tags=[
                {"key": key, "value": value, "propagate_at_launch": True}
                for key, value in tags.items()
            ],
            opts=child,
        )


def validated_certificate(
    name: str,
    domain: str,
    zone_id: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
    provider: pulumi.ProviderResource | None = None,
) -> pulumi.Output[str]:
    """An ACM certificate for the domain and its subdomains, DNS-validated in Route 53 when a
    hosted zone is configured (otherwise the validation records are yours to publish)."""
    child = pulumi.ResourceOptions(parent=parent, provider=provider)
    certificate = aws.acm.Certificate(
        name,
        domain_name=domain,
        subject_alternative_names=[f"*.{domain}"],
        validation_method="DNS",
        tags=tags,
        opts=child,
    )
    if not zone_id:
        return certificate.arn
    option = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        f"{name}-validation",
        zone_id=zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=300,
        allow_overwrite=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    validation = aws.acm.CertificateValidation(
        f"{name}-validation",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=child,
    )
    return validation.certificate_arn
