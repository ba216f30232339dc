"""A real round trip of the topology through the AWS APIs (boto3), against any endpoint:
a local moto server in the tests, never a real account unless you point it at one.

The Pulumi engine cannot run here without its CLI, so this creates the same network, data,
fleet and edge topology from the same `Pulumi.<env>.yaml` values with plain API calls, then
reads it back and checks that the pieces are wired together (what `pulumi up` would do).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from stacks.config import APP_PORT, StackConfig
from stacks.edge import STATIC_PATH
from stacks.fleet import HEALTH_CHECK_PATH, base_path
from stacks.network import ANYWHERE, subnet_cidrs


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class SmokeReport:
    env: str
    created: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, bool(ok), detail))


class Topology:
    """Creates the topology through one endpoint; `clients` are boto3 clients by service."""

    def __init__(self, cfg: StackConfig, endpoint: str, region: str | None = None) -> None:
        self.cfg = cfg
        self.region = region or cfg.region
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=self.region
        )
        self.client: Callable[[str], Any] = lambda service: session.client(
            service, endpoint_url=endpoint
        )
        self.ec2 = self.client("ec2")
        self.report = SmokeReport(cfg.env)

    def tags(self, service: str, name: str) -> list[dict[str, str]]:
        return [
            {"Key": key, "Value": value}
            for key, value in {**self.cfg.tags(service), "Name": self.cfg.name(name)}.items()
        ]

    def build(self) -> SmokeReport:
        self.network()
        self.data()
        self.fleet()
        self.edge()
        return self.report

    def network(self) -> None:
        cfg, ec2 = self.cfg, self.ec2
        vpc = ec2.create_vpc(
            CidrBlock=cfg.vpc_cidr,
            TagSpecifications=[{"ResourceType": "vpc", "Tags": self.tags("network", "vpc")}],
        )["Vpc"]["VpcId"]
        self.vpc = vpc
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][
            : cfg.availability_zones
        ]
        cidrs = subnet_cidrs(cfg.vpc_cidr, len(zones))
        self.public: list[str] = []
        self.private: list[str] = []
        for index, zone in enumerate(zones):
            for tier, cidr, bucket in (
                ("public", cidrs[index], self.public),
                ("private", cidrs[len(zones) + index], self.private),
            ):
                subnet = ec2.create_subnet(
                    VpcId=vpc,
                    CidrBlock=cidr,
                    AvailabilityZone=zone,
                    TagSpecifications=[
                        {"ResourceType": "subnet", "Tags": self.tags("network", f"{tier}-{zone}")}
                    ],
                )
                bucket.append(subnet["Subnet"]["SubnetId"])
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        self.groups = {
            role: ec2.create_security_group(
                GroupName=cfg.name(role),
                Description=f"stackyard {cfg.env} {role}",
                VpcId=vpc,
                TagSpecifications=[
                    {"ResourceType": "security-group", "Tags": self.tags("network", role)}
                ],
            )["GroupId"]
            for role in ("alb", "app", "worker", "database", "redis")
        }

        def allow(target: str, port: int, source: str | None = None, cidr: str | None = None):
            permission: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
            if source:
                permission["UserIdGroupPairs"] = [{"GroupId": self.groups[source]}]
            if cidr:
                permission["IpRanges"] = [{"CidrIp": cidr}]
            ec2.authorize_security_group_ingress(
                GroupId=self.groups[target], IpPermissions=[permission]
            )

        for port in (80, 443):
            allow("alb", port, cidr=ANYWHERE)
        allow("app", APP_PORT, source="alb")
        for store, port in (("database", 5432), ("redis", 6379)):
            for client in ("app", "worker"):
                allow(store, port, source=client)
        self.report.created.update(vpc=vpc, **{f"sg-{k}": v for k, v in self.groups.items()})

    def data(self) -> None:
        cfg = self.cfg
        rds = self.client("rds")
        rds.create_db_subnet_group(
            DBSubnetGroupName=cfg.name("db"),
            DBSubnetGroupDescription="private subnets",
            SubnetIds=self.private,
        )
        major = cfg.postgres_version.split(".")[0]
        rds.create_db_parameter_group(
            DBParameterGroupName=cfg.name("postgres"),
            DBParameterGroupFamily=f"postgres{major}",
            Description="stackyard",
        )
        rds.create_db_instance(
            DBInstanceIdentifier=cfg.name("postgres"),
            Engine="postgres",
            EngineVersion=cfg.postgres_version,
            DBInstanceClass=cfg.db_instance_class,
            AllocatedStorage=cfg.db_storage_gb,
            MasterUsername="stackyard",
            ManageMasterUserPassword=True,
            DBSubnetGroupName=cfg.name("db"),
            DBParameterGroupName=cfg.name("postgres"),
            VpcSecurityGroupIds=[self.groups["database"]],
            StorageEncrypted=True,
            MultiAZ=cfg.multi_az,
            PubliclyAccessible=False,
            BackupRetentionPeriod=cfg.db_backup_days,
            Tags=self.tags("data", "postgres"),
        )
        cache = self.client("elasticache")
        cache.create_cache_subnet_group(
            CacheSubnetGroupName=cfg.name("redis"),
            CacheSubnetGroupDescription="private subnets",
            SubnetIds=self.private,
        )
        token = secrets.token_urlsafe(32)  # stands in for the config secret; never printed
        for purpose in ("cache", "broker"):
            cache.create_replication_group(
                ReplicationGroupId=cfg.name(purpose),
                ReplicationGroupDescription=f"stackyard {cfg.env} {purpose}",
                Engine="redis",
                CacheNodeType=cfg.redis_node_type,
                NumCacheClusters=2 if cfg.multi_az else 1,
                AutomaticFailoverEnabled=cfg.multi_az,
                MultiAZEnabled=cfg.multi_az,
                CacheSubnetGroupName=cfg.name("redis"),
                SecurityGroupIds=[self.groups["redis"]],
                AtRestEncryptionEnabled=True,
                TransitEncryptionEnabled=True,
                AuthToken=token,
                Tags=self.tags("data", purpose),
            )

    def fleet(self) -> None:
        cfg = self.cfg
        elb = self.client("elbv2")
        self.alb = elb.create_load_balancer(
            Name=cfg.name("alb"),
            Subnets=self.public,
            SecurityGroups=[self.groups["alb"]],
            Scheme="internet-facing",
            Type="application",
            Tags=self.tags("fleet", "alb"),
        )["LoadBalancers"][0]
        self.target_groups = {
            group: elb.create_target_group(
                Name=cfg.name(group)[:32],
                Protocol="HTTP",
                Port=APP_PORT,
                VpcId=self.vpc,
                TargetType="instance",
                HealthCheckPath=HEALTH_CHECK_PATH,
                Matcher={"HttpCode": "200"},
                Tags=self.tags("fleet", group),
            )["TargetGroups"][0]["TargetGroupArn"]
            for group in cfg.service_groups
        }
        listener = elb.create_listener(
            LoadBalancerArn=self.alb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": self.target_groups["main"]}],
        )["Listeners"][0]["ListenerArn"]
        self.listener = listener
        for index, app in enumerate(cfg.separate_services):
            prefix = base_path(app)
            elb.create_rule(
                ListenerArn=listener,
                Priority=10 + index,
                Conditions=[
                    {
                        "Field": "path-pattern",
                        "PathPatternConfig": {"Values": [prefix, f"{prefix}/*"]},
                    }
                ],
                Actions=[{"Type": "forward", "TargetGroupArn": self.target_groups[app]}],
            )
        self.report.created["alb"] = self.alb["DNSName"]

    def edge(self) -> None:
        cfg = self.cfg
        s3 = self.client("s3")
        bucket = cfg.name("static")
        location = (
            {}
            if self.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        )
        s3.create_bucket(Bucket=bucket, **location)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        self.bucket = bucket
        if not cfg.cloudfront:
            return
        cloudfront = self.client("cloudfront")
        access = cloudfront.create_origin_access_control(
            OriginAccessControlConfig={
                "Name": cfg.name("static"),
                "SigningProtocol": "sigv4",
                "SigningBehavior": "always",
                "OriginAccessControlOriginType": "s3",
            }
        )["OriginAccessControl"]["Id"]
        static_domain = f"{bucket}.s3.{self.region}.amazonaws.com"

        def behavior(origin: str, path: str | None = None) -> dict[str, Any]:
            value: dict[str, Any] = {
                "TargetOriginId": origin,
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "all"}},
            }
            if path:
                value["PathPattern"] = path
            return value

        distribution = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": cfg.name("cdn"),
                "Comment": f"stackyard {cfg.env}",
                "Enabled": True,
                "Origins": {
                    "Quantity": 2,
                    "Items": [
                        {
                            "Id": "alb",
                            "DomainName": self.alb["DNSName"],
                            "CustomOriginConfig": {
                                "HTTPPort": 80,
                                "HTTPSPort": 443,
                                "OriginProtocolPolicy": "http-only",
                            },
                        },
                        {
                            "Id": "static",
                            "DomainName": static_domain,
                            "OriginAccessControlId": access,
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        },
                    ],
                },
                "DefaultCacheBehavior": behavior("alb"),
                "CacheBehaviors": {"Quantity": 1, "Items": [behavior("static", STATIC_PATH)]},
            }
        )["Distribution"]
        self.distribution = distribution["Id"]
        self.access_control = access
        self.report.created["cloudfront"] = distribution["DomainName"]


def verify(topology: Topology) -> SmokeReport:
    """Read everything back through the APIs and check the wiring."""
    cfg, report, ec2 = topology.cfg, topology.report, topology.ec2
    groups = {
        g["GroupId"]: g
        for g in ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [topology.vpc]}]
        )["SecurityGroups"]
    }
    clients = {topology.groups["app"], topology.groups["worker"]}
    for store in ("database", "redis"):
        rules = groups[topology.groups[store]]["IpPermissions"]
        sources = {pair["GroupId"] for rule in rules for pair in rule.get("UserIdGroupPairs", [])}
        cidrs = {r["CidrIp"] for rule in rules for r in rule.get("IpRanges", [])}
        report.check(
            f"{store} reachable only from app and worker",
            sources == clients and not cidrs,
            f"sources={sorted(sources)} cidrs={sorted(cidrs)}",
        )
    subnets = ec2.describe_subnets(SubnetIds=topology.public + topology.private)["Subnets"]
    report.check(
        f"subnets in {cfg.availability_zones} AZs inside the VPC",
        {s["VpcId"] for s in subnets} == {topology.vpc}
        and len({s["AvailabilityZone"] for s in subnets}) == cfg.availability_zones,
    )

    rds = topology.client("rds")
    database = rds.describe_db_instances(DBInstanceIdentifier=cfg.name("postgres"))["DBInstances"][
        0
    ]
    db_subnets = {s["SubnetIdentifier"] for s in database["DBSubnetGroup"]["Subnets"]}
    report.check(
        "database private, encrypted, in the private subnets and the database group",
        not database["PubliclyAccessible"]
        and database["StorageEncrypted"]
        and db_subnets == set(topology.private)
        and [g["VpcSecurityGroupId"] for g in database["VpcSecurityGroups"]]
        == [topology.groups["database"]],
    )
    report.check(
        f"database multi-AZ is {cfg.multi_az}",
        database["MultiAZ"] == cfg.multi_az,
        f"MultiAZ={database['MultiAZ']}",
    )
    report.check("database backups kept", database["BackupRetentionPeriod"] == cfg.db_backup_days)
    cache = topology.client("elasticache")
    for purpose in ("cache", "broker"):
        group = cache.describe_replication_groups(ReplicationGroupId=cfg.name(purpose))[
            "ReplicationGroups"
        ][0]
        report.check(
            f"Redis {purpose} encrypted at rest and in transit, with an auth token",
            group.get("AtRestEncryptionEnabled") is True
            and group.get("TransitEncryptionEnabled") is True
            and group.get("AuthTokenEnabled") is True,
        )

    elb = topology.client("elbv2")
    alb = elb.describe_load_balancers(Names=[cfg.name("alb")])["LoadBalancers"][0]
    report.check(
        "ALB in the VPC's public subnets with the ALB group",
        alb["VpcId"] == topology.vpc
        and {z["SubnetId"] for z in alb["AvailabilityZones"]} == set(topology.public)
        and alb["SecurityGroups"] == [topology.groups["alb"]],
    )
    target_groups = elb.describe_target_groups(LoadBalancerArn=alb["LoadBalancerArn"])[
        "TargetGroups"
    ]
    report.check(
        f"{len(cfg.service_groups)} target group(s) attached, all checking {HEALTH_CHECK_PATH}",
        len(target_groups) == len(cfg.service_groups)
        and all(tg["HealthCheckPath"] == HEALTH_CHECK_PATH for tg in target_groups),
        ", ".join(tg["TargetGroupName"] for tg in target_groups),
    )
    rules = elb.describe_rules(ListenerArn=topology.listener)["Rules"]
    routed = {
        value: rule["Actions"][0]["TargetGroupArn"]
        for rule in rules
        for condition in rule.get("Conditions", [])
        for value in condition.get("Values")
        or condition.get("PathPatternConfig", {}).get("Values", [])
    }
    default = [rule for rule in rules if rule.get("IsDefault")]
    report.check(
        "path routing: each separate service under its base path, the rest to main",
        all(
            routed.get(f"{base_path(app)}/*") == topology.target_groups[app]
            for app in cfg.separate_services
        )
        and bool(default)
        and default[0]["Actions"][0]["TargetGroupArn"] == topology.target_groups["main"],
        ", ".join(sorted(routed)) or "no path rules",
    )

    s3 = topology.client("s3")
    encryption = s3.get_bucket_encryption(Bucket=topology.bucket)
    public = s3.get_public_access_block(Bucket=topology.bucket)["PublicAccessBlockConfiguration"]
    report.check(
        "static bucket encrypted and not public",
        bool(encryption["ServerSideEncryptionConfiguration"]["Rules"]) and all(public.values()),
    )
    if cfg.cloudfront:
        cloudfront = topology.client("cloudfront")
        config = cloudfront.get_distribution(Id=topology.distribution)["Distribution"][
            "DistributionConfig"
        ]
        origins = {o["Id"]: o for o in config["Origins"]["Items"]}
        behaviors = config["CacheBehaviors"].get("Items", [])
        access = cloudfront.get_origin_access_control(Id=topology.access_control)[
            "OriginAccessControl"
        ]["OriginAccessControlConfig"]
        report.check(
            "CloudFront: default to the ALB, /static/* to the bucket",
            origins["alb"]["DomainName"] == alb["DNSName"]
            and origins["static"]["DomainName"].startswith(topology.bucket)
            and config["DefaultCacheBehavior"]["TargetOriginId"] == "alb"
            and any(
                b["PathPattern"] == STATIC_PATH and b["TargetOriginId"] == "static"
                for b in behaviors
            ),
            f"origins={sorted(origins)} behaviors={[b['PathPattern'] for b in behaviors]}",
        )
        # moto does not echo OriginAccessControlId on origins; where it does, it must match.
        report.check(
            "static origin signed by an S3 origin access control (sigv4, always)",
            access["OriginAccessControlOriginType"] == "s3"
            and access["SigningBehavior"] == "always"
            and origins["static"].get("OriginAccessControlId", topology.access_control)
            == topology.access_control,
        )
    return report


def run_smoke(cfg: StackConfig, endpoint: str) -> SmokeReport:
    """Create the topology of `cfg` through `endpoint` and check it; returns the report."""
    topology = Topology(cfg, endpoint)
    topology.build()
    return verify(topology)
