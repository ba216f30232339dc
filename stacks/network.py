"""Network: VPC over 2-3 AZs, public/private/isolated subnets, NAT, least-privilege groups."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.config import APP_PORT, NODE_EXPORTER_PORT, SANDBOX_PORT, StackConfig

ANYWHERE = "0.0.0.0/0"


@dataclass
class NetworkArgs:
    config: StackConfig
    availability_zones: list[str]


def subnet_cidrs(vpc_cidr: str, count: int) -> list[str]:
    """Carve the VPC into /20s: public, private and isolated tiers, one per AZ each."""
    network = ipaddress.ip_network(vpc_cidr)
    blocks = list(network.subnets(new_prefix=20)) if network.prefixlen <= 20 else []
    if len(blocks) < 3 * count:
        raise ValueError(f"{vpc_cidr} is too small for {count} AZs of /20 subnets")
    return [str(block) for block in blocks[: 3 * count]]


class Network(pulumi.ComponentResource):
    """The VPC and every security group; the groups encode who may talk to whom."""

    vpc: aws.ec2.Vpc
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    isolated_subnet_ids: list[pulumi.Output[str]]
    groups: dict[str, aws.ec2.SecurityGroup]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stackyard:network:Network", name, None, opts)
        cfg = args.config
        zones = args.availability_zones[: cfg.availability_zones]
        tags = self._tags = cfg.tags("network")
        child = pulumi.ResourceOptions(parent=self)
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cfg.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": cfg.name("vpc")},
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags=tags, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=self.vpc.id,
            routes=[{"cidr_block": ANYWHERE, "gateway_id": gateway.id}],
            tags={**tags, "tier": "public"},
            opts=child,
        )
        cidrs = subnet_cidrs(cfg.vpc_cidr, len(zones))
        self.public_subnet_ids, self.private_subnet_ids, self.isolated_subnet_ids = [], [], []
        nats: list[aws.ec2.NatGateway] = []
        for index, zone in enumerate(zones):
            public = self._subnet(name, "public", index, zone, cidrs[index], tags, True)
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}",
                subnet_id=public.id,
                route_table_id=public_routes.id,
                opts=child,
            )
            self.public_subnet_ids.append(public.id)
            if index < max(1, cfg.nat_gateways):
                address = aws.ec2.Eip(f"{name}-nat-{index}", domain="vpc", tags=tags, opts=child)
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{index}",
                        allocation_id=address.id,
                        subnet_id=public.id,
                        tags=tags,
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                    )
                )
        isolated_routes = aws.ec2.RouteTable(
            f"{name}-isolated",
            vpc_id=self.vpc.id,
            tags={**tags, "tier": "isolated"},
            opts=child,
        )
        for index, zone in enumerate(zones):
            nat = nats[index % len(nats)]
            routes = aws.ec2.RouteTable(
                f"{name}-private-{index}",
                vpc_id=self.vpc.id,
                routes=[{"cidr_block": ANYWHERE, "nat_gateway_id": nat.id}],
                tags={**tags, "tier": "private"},
                opts=child,
            )
            private = self._subnet(
                name, "private", index, zone, cidrs[len(zones) + index], tags, False
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}",
                subnet_id=private.id,
                route_table_id=routes.id,
                opts=child,
            )
            self.private_subnet_ids.append(private.id)
            # Isolated tier: no route out at all (the sandbox and its VPC endpoints).
            isolated = self._subnet(
                name, "isolated", index, zone, cidrs[2 * len(zones) + index], tags, False
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-isolated-{index}",
                subnet_id=isolated.id,
                route_table_id=isolated_routes.id,
                opts=child,
            )
            self.isolated_subnet_ids.append(isolated.id)
        self.groups = self._security_groups(name, cfg)
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
            }
        )

    def _subnet(
        self,
        name: str,
        tier: str,
        index: int,
        zone: str,
        cidr: str,
        tags: dict[str, str],
        public: bool,
    ) -> aws.ec2.Subnet:
        return aws.ec2.Subnet(
            f"{name}-{tier}-{index}",
            vpc_id=self.vpc.id,
            cidr_block=cidr,
            availability_zone=zone,
            map_public_ip_on_launch=public,
            tags={**tags, "tier": tier, "Name": f"{tier}-{zone}"},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _security_groups(self, name: str, cfg: StackConfig) -> dict[str, aws.ec2.SecurityGroup]:
        """One group per role; every ingress names its source group, never the world,
        except the ALB's and the edge caches' HTTP(S)."""
        tags = cfg.tags("network")
        roles = {
            "alb": "load balancer: HTTP(S) from anywhere",
            "app": "app VMs: app port from the ALB, metrics from observability",
            "worker": "Celery workers: no inbound but metrics",
            "database": "PostgreSQL: from app and worker only",
            "redis": "Redis: from app and worker only",
            "observability": "Prometheus/Grafana: from the admin CIDR only",
            "sandbox": "code-execution hosts: jobs from app only, no internet",
            "endpoints": "VPC interface endpoints for the isolated sandbox (SSM)",
        }
        groups: dict[str, aws.ec2.SecurityGroup] = {}
        for role, description in roles.items():
            groups[role] = aws.ec2.SecurityGroup(
                f"{name}-{role}",
                vpc_id=self.vpc.id,
                description=f"stackyard {cfg.env} {description}",
                # No inline egress: the rules below are the only ones (the sandbox gets none
                # to the internet).
                egress=[],
                tags={**tags, "role": role},
                opts=pulumi.ResourceOptions(parent=self),
            )
        for port in (80, 443):
            self._ingress(f"{name}-alb-{port}", groups["alb"], port, cidr=ANYWHERE)
        self._ingress(f"{name}-app-from-alb", groups["app"], APP_PORT, source=groups["alb"])
        for target in ("app", "worker", "sandbox"):
            self._ingress(
                f"{name}-{target}-metrics",
                groups[target],
                NODE_EXPORTER_PORT,
                source=groups["observability"],
            )
        self._ingress(f"{name}-app-scrape", groups["app"], APP_PORT, source=groups["observability"])
        for store, port in (("database", 5432), ("redis", 6379)):
            for client in ("app", "worker"):
                self._ingress(f"{name}-{store}-from-{client}", groups[store], port, groups[client])
        self._ingress(
            f"{name}-sandbox-from-app", groups["sandbox"], SANDBOX_PORT, source=groups["app"]
        )
        self._ingress(
            f"{name}-endpoints-from-sandbox", groups["endpoints"], 443, source=groups["sandbox"]
        )
        if cfg.admin_cidr:
            for role in ("app", "worker", "observability"):
                self._ingress(f"{name}-{role}-ssh", groups[role], 22, cidr=cfg.admin_cidr)
            for port in (3000, 9090):
                self._ingress(
                    f"{name}-observability-{port}",
                    groups["observability"],
                    port,
                    cidr=cfg.admin_cidr,
                )
        for role in ("alb", "app", "worker", "observability"):
            # These reach the internet (package mirrors, the apps' outbound calls) through NAT.
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{role}-egress",
                security_group_id=groups[role].id,
                ip_protocol="-1",
                cidr_ipv4=ANYWHERE,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-sandbox-to-endpoints",
            security_group_id=groups["sandbox"].id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=groups["endpoints"].id,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return groups

    def _ingress(
        self,
        name: str,
        group: aws.ec2.SecurityGroup,
        port: int,
        source: aws.ec2.SecurityGroup | None = None,
        cidr: str | None = None,
    ) -> aws.vpc.SecurityGroupIngressRule:
        return aws.vpc.SecurityGroupIngressRule(
            name,
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=source.id if source is not None else None,
            cidr_ipv4=cidr,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
