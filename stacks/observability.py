"""Observability: a Prometheus + Grafana VM scraping the fleet (or, in `managed` mode, a
Prometheus agent writing to Amazon Managed Prometheus with Amazon Managed Grafana), and
CloudWatch alarms on the ALB 5xx rate and the database CPU."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.config import StackConfig
from stacks.network import Network
from stacks.nodes import GROUP_TAG, ROLE_TAG, fixed_hosts, instance_profile, ubuntu_ami, user_data

EC2_READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"  # ec2_sd_configs
AMP_REMOTE_WRITE = "arn:aws:iam::aws:policy/AmazonPrometheusRemoteWriteAccess"
FIVE_XX_RATE_PERCENT = 5
DATABASE_CPU_PERCENT = 80


@dataclass
class ObservabilityArgs:
    config: StackConfig
    network: Network
    alb_arn_suffix: pulumi.Input[str]
    database_identifier: pulumi.Input[str]


class Observability(pulumi.ComponentResource):
    """What tells us the fleet is healthy, and who is told when it is not."""

    hosts: pulumi.Output[list]
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stackyard:observability:Observability", name, None, opts)
        cfg, network = args.config, args.network
        tags = cfg.tags("observability")
        child = pulumi.ResourceOptions(parent=self)
        managed = cfg.observability_mode == "managed"
        remote_write: pulumi.Input[str] = ""
        if managed:
            workspace = aws.amp.Workspace(
                f"{name}-prometheus", alias=cfg.name("prometheus"), tags=tags, opts=child
            )
            remote_write = pulumi.Output.concat(
                workspace.prometheus_endpoint, "api/v1/remote_write"
            )
            self._managed_grafana(name, cfg, tags)
        profile = instance_profile(
            f"{name}-node",
            cfg,
            "observability",
            self,
            managed=(EC2_READ_ONLY, AMP_REMOTE_WRITE) if managed else (EC2_READ_ONLY,),
        )
        public = bool(cfg.admin_cidr)
        server = aws.ec2.Instance(
            f"{name}-prometheus",
            ami=ubuntu_ami(self),
            instance_type=cfg.observability_instance_type,
            subnet_id=(network.public_subnet_ids if public else network.private_subnet_ids)[0],
            associate_public_ip_address=public,
            vpc_security_group_ids=[network.groups["observability"].id],
            iam_instance_profile=profile.name,
            user_data=user_data(cfg, "observability"),
            metadata_options={"http_tokens": "required"},
            root_block_device={"encrypted": True, "volume_type": "gp3", "volume_size": 50},
            tags={**tags, ROLE_TAG: "observability", GROUP_TAG: "observability"},
            opts=child,
        )
        self.hosts = pulumi.Output.all(
            fixed_hosts({"prometheus": server}, public=public), remote_write
        ).apply(
            lambda values: [
                {
                    **host,
                    "mode": cfg.observability_mode,
                    "remote_write": values[1],
                    # ec2_sd_configs: scrape every running node of this environment.
                    "scrape_tags": {"environment": cfg.env, "project": "stackyard"},
                }
                for host in values[0]
            ]
        )
        self.alarms = self._alarms(name, cfg, args, tags)
        self.register_outputs({"hosts": self.hosts})

    def _managed_grafana(self, name: str, cfg: StackConfig, tags: dict[str, str]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-grafana",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "grafana.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-grafana-amp",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess",
            opts=child,
        )
        aws.grafana.Workspace(
            f"{name}-grafana",
            name=cfg.name("grafana"),
            account_access_type="CURRENT_ACCOUNT",
            authentication_providers=["AWS_SSO"],
            permission_type="SERVICE_MANAGED",
            data_sources=["PROMETHEUS", "CLOUDWATCH"],
            role_arn=role.arn,
            tags=tags,
            opts=child,
        )

    def _alarms(
        self, name: str, cfg: StackConfig, args: ObservabilityArgs, tags: dict[str, str]
    ) -> list[aws.cloudwatch.MetricAlarm]:
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(f"{name}-alarms", name=cfg.name("alarms"), tags=tags, opts=child)
        if cfg.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-alarms-email",
                topic=topic.arn,
                protocol="email",
                endpoint=cfg.alarm_email,
                opts=child,
            )

        def alb_metric(metric: str, ident: str) -> dict[str, object]:
            return {
                "id": ident,
                "metric": {
                    "namespace": "AWS/ApplicationELB",
                    "metric_name": metric,
                    "dimensions": {"LoadBalancer": args.alb_arn_suffix},
                    "period": 60,
                    "stat": "Sum",
                },
            }

        five_xx = aws.cloudwatch.MetricAlarm(
            f"{name}-alb-5xx-rate",
            alarm_description=f"More than {FIVE_XX_RATE_PERCENT}% of requests answered 5xx",
            comparison_operator="GreaterThanThreshold",
            threshold=FIVE_XX_RATE_PERCENT,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            treat_missing_data="notBreaching",
            metric_queries=[
                alb_metric("HTTPCode_Target_5XX_Count", "target5xx"),
                alb_metric("HTTPCode_ELB_5XX_Count", "elb5xx"),
                alb_metric("RequestCount", "requests"),
                {
                    "id": "rate",
                    "expression": "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests",
                    "label": "5xx rate (%)",
                    "return_data": True,
                },
            ],
            alarm_actions=[topic.arn],
            ok_actions=[topic.arn],
            tags=tags,
            opts=child,
        )
        database_cpu = aws.cloudwatch.MetricAlarm(
            f"{name}-rds-cpu",
            alarm_description=f"Database CPU above {DATABASE_CPU_PERCENT}% for 15 minutes",
            namespace="AWS/RDS",
            metric_name="CPUUtilization",
            dimensions={"DBInstanceIdentifier": args.database_identifier},
            statistic="Average",
            period=300,
            evaluation_periods=3,
            comparison_operator="GreaterThanThreshold",
            threshold=DATABASE_CPU_PERCENT,
            alarm_actions=[topic.arn],
            ok_actions=[topic.arn],
            tags=tags,
            opts=child,
        )
        return [five_xx, database_cpu]
