"""Edge: CloudFront in front of the ALB and the static bucket (origin access control), plus
optional self-managed nginx edge caches in chosen regions (the CDN simulator on real VMs).

Caching rules (the CDN issue's): the origin's Cache-Control is honoured (nothing is cached
without it), static objects are long-lived, API and identity paths are never cached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.config import EdgeLocation, StackConfig
from stacks.fleet import validated_certificate
from stacks.nodes import GROUP_TAG, ROLE_TAG, fixed_hosts, ubuntu_ami, user_data

# AWS-managed policies (fixed, documented ids).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CORS_S3_ORIGIN = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
ONE_YEAR = 31_536_000
ONE_DAY = 86_400
STATIC_PATH = "/static/*"
NEVER_CACHED = ("/auth/*", "/auth", "/ready", "/health")
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
ALB_ORIGIN = "alb"
STATIC_ORIGIN = "static"


@dataclass
class EdgeArgs:
    config: StackConfig
    alb_dns_name: pulumi.Input[str]


class Edge(pulumi.ComponentResource):
    """The CDN: CloudFront (when enabled) and the regional nginx cache VMs (when listed)."""

    bucket: aws.s3.Bucket
    distribution: aws.cloudfront.Distribution | None
    hosts: pulumi.Output[list]

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("stackyard:edge:Edge", name, None, opts)
        cfg = args.config
        self._cfg = cfg
        tags = cfg.tags("edge")
        self.bucket = self._static_bucket(name, tags)
        self.distribution = (
            self._distribution(name, args.alb_dns_name, tags) if cfg.cloudfront else None
        )
        origin = (
            pulumi.Output.from_input(f"origin.{cfg.domain}") if cfg.domain else args.alb_dns_name
        )
        site_hosts = [
            EdgeSite(
                f"{name}-{location.region}",
                EdgeSiteArgs(config=cfg, location=location, origin=origin),
                pulumi.ResourceOptions(parent=self),
            ).hosts
            for location in cfg.edge_locations
        ]
        self.hosts = pulumi.Output.all(*site_hosts).apply(
            lambda lists: [host for hosts in lists for host in hosts]
        )
        self.register_outputs(
            {
                "bucket": self.bucket.bucket,
                "cloudfrontDomain": self.distribution.domain_name if self.distribution else "",
                "edgeHosts": self.hosts,
            }
        )

    def _static_bucket(self, name: str, tags: dict[str, str]) -> aws.s3.Bucket:
        """Private, encrypted, owner-enforced; only CloudFront (by OAC) reads it."""
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-static", force_destroy=self._cfg.env != "prod", tags=tags, opts=child
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-static",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-static",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-static",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        return bucket

    def _distribution(
        self, name: str, alb_dns_name: pulumi.Input[str], tags: dict[str, str]
    ) -> aws.cloudfront.Distribution:
        cfg = self._cfg
        child = pulumi.ResourceOptions(parent=self)
        access = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            name=cfg.name("static"),
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        honour_origin = aws.cloudfront.CachePolicy(
            f"{name}-origin-cache-control",
            name=cfg.name("origin-cache-control"),
            comment="Cache only what the origin's Cache-Control allows",
            min_ttl=0,
            default_ttl=0,
            max_ttl=ONE_YEAR,
            parameters_in_cache_key_and_forwarded_to_origin={
                "cookies_config": {"cookie_behavior": "all"},
                "headers_config": {
                    "header_behavior": "whitelist",
                    "headers": {"items": ["Authorization"]},
                },
                "query_strings_config": {"query_string_behavior": "all"},
                "enable_accept_encoding_brotli": True,
                "enable_accept_encoding_gzip": True,
            },
            opts=child,
        )
        long_lived = aws.cloudfront.CachePolicy(
            f"{name}-static-long-lived",
            name=cfg.name("static-long-lived"),
            comment="Static objects: a day at least, a year by default",
            min_ttl=ONE_DAY,
            default_ttl=ONE_YEAR,
            max_ttl=ONE_YEAR,
            parameters_in_cache_key_and_forwarded_to_origin={
                "cookies_config": {"cookie_behavior": "none"},
                "headers_config": {"header_behavior": "none"},
                "query_strings_config": {"query_string_behavior": "none"},
                "enable_accept_encoding_brotli": True,
                "enable_accept_encoding_gzip": True,
            },
            opts=child,
        )
        if cfg.domain:
            alb_origin = {
                "origin_id": ALB_ORIGIN,
                "domain_name": f"origin.{cfg.domain}",
                "custom_origin_config": {
                    "http_port": 80,
                    "https_port": 443,
                    "origin_protocol_policy": "https-only",
                    "origin_ssl_protocols": ["TLSv1.2"],
                },
            }
            # CloudFront only takes certificates from us-east-1.
            us_east_1 = aws.Provider(f"{name}-us-east-1", region="us-east-1", opts=child)
            certificate = validated_certificate(
                f"{name}-cert", cfg.domain, cfg.hosted_zone_id, tags, self, us_east_1
            )
            viewer_certificate: dict[str, object] = {
                "acm_certificate_arn": certificate,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            }
        else:
            alb_origin = {
                "origin_id": ALB_ORIGIN,
                "domain_name": alb_dns_name,
                "custom_origin_config": {
                    "http_port": 80,
                    "https_port": 443,
                    "origin_protocol_policy": "http-only",
                    "origin_ssl_protocols": ["TLSv1.2"],
                },
            }
            viewer_certificate = {"cloudfront_default_certificate": True}
        never_cached = [*NEVER_CACHED, *cfg.uncached_paths]
        distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=cfg.price_class,
            comment=f"stackyard {cfg.env}",
            aliases=[cfg.domain] if cfg.domain else [],
            origins=[
                alb_origin,
                {
                    "origin_id": STATIC_ORIGIN,
                    "domain_name": self.bucket.bucket_regional_domain_name,
                    "origin_access_control_id": access.id,
                },
            ],
            default_cache_behavior={
                "target_origin_id": ALB_ORIGIN,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ALL_METHODS,
                "cached_methods": ["GET", "HEAD"],
                "cache_policy_id": honour_origin.id,
                "origin_request_policy_id": ALL_VIEWER_EXCEPT_HOST,
                "compress": True,
            },
            ordered_cache_behaviors=[
                {
                    "path_pattern": STATIC_PATH,
                    "target_origin_id": STATIC_ORIGIN,
                    "viewer_protocol_policy": "redirect-to-https",
                    "allowed_methods": READ_METHODS,
                    "cached_methods": ["GET", "HEAD"],
                    "cache_policy_id": long_lived.id,
                    "origin_request_policy_id": CORS_S3_ORIGIN,
                    "compress": True,
                },
                *(
                    {
                        "path_pattern": path,
                        "target_origin_id": ALB_ORIGIN,
                        "viewer_protocol_policy": "redirect-to-https",
                        "allowed_methods": ALL_METHODS,
                        "cached_methods": ["GET", "HEAD"],
                        "cache_policy_id": CACHING_DISABLED,
                        "origin_request_policy_id": ALL_VIEWER_EXCEPT_HOST,
                        "compress": True,
                    }
                    for path in never_cached
                ),
            ],
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate=viewer_certificate,
            tags=tags,
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-static",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, distribution.arn).apply(
                lambda arns: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "CloudFrontReadsStatic",
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "s3:GetObject",
                                "Resource": f"{arns[0]}/*",
                                "Condition": {"StringEquals": {"AWS:SourceArn": arns[1]}},
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        return distribution


@dataclass
class EdgeSiteArgs:
    config: StackConfig
    location: EdgeLocation
    origin: pulumi.Input[str]


class EdgeSite(pulumi.ComponentResource):
    """nginx cache VMs in one region, in a small public VPC of their own."""

    hosts: pulumi.Output[list]

    def __init__(self, name: str, args: EdgeSiteArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("stackyard:edge:EdgeSite", name, None, opts)
        cfg, location = args.config, args.location
        tags = {**cfg.tags("edge"), "region": location.region}
        provider = aws.Provider(
            f"{name}-provider", region=location.region, opts=pulumi.ResourceOptions(parent=self)
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block="10.250.0.0/24",
            enable_dns_hostnames=True,
            tags=tags,
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=child)
        subnet = aws.ec2.Subnet(
            f"{name}-public",
            vpc_id=vpc.id,
            cidr_block="10.250.0.0/24",
            map_public_ip_on_launch=True,
            tags=tags,
            opts=child,
        )
        routes = aws.ec2.RouteTable(
            f"{name}-routes",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            tags=tags,
            opts=child,
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-routes", subnet_id=subnet.id, route_table_id=routes.id, opts=child
        )
        ingress = [
            {"protocol": "tcp", "from_port": port, "to_port": port, "cidr_blocks": ["0.0.0.0/0"]}
            for port in (80, 443)
        ]
        if cfg.admin_cidr:
            ingress.append(
                {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": [cfg.admin_cidr]}
            )
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=vpc.id,
            description=f"stackyard {cfg.env} edge cache: HTTP(S) from anywhere",
            ingress=ingress,
            egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}],
            tags=tags,
            opts=child,
        )
        image = ubuntu_ami(self, provider)
        instances = {
            f"edge-{location.region}-{index}": aws.ec2.Instance(
                f"{name}-{index}",
                ami=image,
                instance_type=location.instance_type,
                subnet_id=subnet.id,
                vpc_security_group_ids=[group.id],
                user_data=user_data(cfg, "edge"),
                metadata_options={"http_tokens": "required"},
                root_block_device={"encrypted": True, "volume_type": "gp3", "volume_size": 20},
                tags={**tags, ROLE_TAG: "edge", GROUP_TAG: f"edge-{location.region}"},
                opts=child,
            )
            for index in range(location.count)
        }
        self.hosts = pulumi.Output.all(fixed_hosts(instances, public=True), args.origin).apply(
            lambda values: [
                {**host, "region": location.region, "origin": values[1]} for host in values[0]
            ]
        )
        self.register_outputs({"hosts": self.hosts})
