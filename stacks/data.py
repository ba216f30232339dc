"""Data: private, encrypted PostgreSQL (RDS) and Redis (ElastiCache): one replication group
for the cache and a separate one with `noeviction` for the Celery broker."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.config import StackConfig
from stacks.network import Network

REDIS_FAMILY = "redis7"
REDIS_VERSION = "7.1"


@dataclass
class DataArgs:
    config: StackConfig
    network: Network
    redis_auth_token: pulumi.Input[str]


class Data(pulumi.ComponentResource):
    """The stores; reachable only from the app and worker groups (see Network)."""

    database: aws.rds.Instance
    cache: aws.elasticache.ReplicationGroup
    broker: aws.elasticache.ReplicationGroup
    database_secret_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DataArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("stackyard:data:Data", name, None, opts)
        cfg, network = args.config, args.network
        tags = cfg.tags("data")
        child = pulumi.ResourceOptions(parent=self)
        subnets = aws.rds.SubnetGroup(
            f"{name}-db-subnets", subnet_ids=network.private_subnet_ids, tags=tags, opts=child
        )
        major = cfg.postgres_version.split(".")[0]
        parameters = aws.rds.ParameterGroup(
            f"{name}-postgres",
            family=f"postgres{major}",
            description=f"stackyard {cfg.env} PostgreSQL {major}",
            parameters=[
                {"name": "rds.force_ssl", "value": "1"},
                {"name": "log_min_duration_statement", "value": "500"},
                {"name": "idle_in_transaction_session_timeout", "value": "60000"},
            ],
            tags=tags,
            opts=child,
        )
        self.database = aws.rds.Instance(
            f"{name}-postgres",
            engine="postgres",
            engine_version=cfg.postgres_version,
            instance_class=cfg.db_instance_class,
            allocated_storage=cfg.db_storage_gb,
            max_allocated_storage=cfg.db_storage_gb * 5,
            storage_type="gp3",
            storage_encrypted=True,
            db_name="stackyard",
            username="stackyard",
            # RDS keeps the password in Secrets Manager and rotates it; nothing in config.
            manage_master_user_password=True,
            multi_az=cfg.multi_az,
            publicly_accessible=False,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[network.groups["database"].id],
            parameter_group_name=parameters.name,
            backup_retention_period=cfg.db_backup_days,
            backup_window="03:00-04:00",
            maintenance_window="sun:04:30-sun:05:30",
            copy_tags_to_snapshot=True,
            deletion_protection=cfg.env == "prod",
            skip_final_snapshot=cfg.env != "prod",
            final_snapshot_identifier=cfg.name("final") if cfg.env == "prod" else None,
            performance_insights_enabled=True,
            auto_minor_version_upgrade=True,
            tags=tags,
            opts=child,
        )
        self.database_secret_arn = self.database.master_user_secrets.apply(
            lambda secrets: (secrets[0].secret_arn or "") if secrets else ""
        )
        cache_subnets = aws.elasticache.SubnetGroup(
            f"{name}-redis-subnets",
            subnet_ids=network.private_subnet_ids,
            description=f"stackyard {cfg.env} Redis",
            tags=tags,
            opts=child,
        )
        self.cache = self._redis(f"{name}-cache", "cache", "allkeys-lru", cache_subnets, args, tags)
        # The broker is not the cache: evicting a queued task would lose it.
        self.broker = self._redis(
            f"{name}-broker", "Celery broker", "noeviction", cache_subnets, args, tags
        )
        self._parameters(name, cfg, args.redis_auth_token, tags)
        self.register_outputs(
            {
                "databaseEndpoint": pulumi.Output.secret(self.database.endpoint),
                "redisEndpoint": pulumi.Output.secret(self.cache.primary_endpoint_address),
                "brokerEndpoint": pulumi.Output.secret(self.broker.primary_endpoint_address),
            }
        )

    def _redis(
        self,
        name: str,
        purpose: str,
        eviction: str,
        subnets: aws.elasticache.SubnetGroup,
        args: DataArgs,
        tags: dict[str, str],
    ) -> aws.elasticache.ReplicationGroup:
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        parameters = aws.elasticache.ParameterGroup(
            name,
            family=REDIS_FAMILY,
            description=f"stackyard {cfg.env} {purpose}: maxmemory-policy {eviction}",
            parameters=[{"name": "maxmemory-policy", "value": eviction}],
            tags=tags,
            opts=child,
        )
        return aws.elasticache.ReplicationGroup(
            name,
            description=f"stackyard {cfg.env} {purpose}",
            engine="redis",
            engine_version=REDIS_VERSION,
            node_type=cfg.redis_node_type,
            port=6379,
            num_cache_clusters=2 if cfg.multi_az else 1,
            automatic_failover_enabled=cfg.multi_az,
            multi_az_enabled=cfg.multi_az,
            parameter_group_name=parameters.name,
            subnet_group_name=subnets.name,
            security_group_ids=[args.network.groups["redis"].id],
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            auth_token=args.redis_auth_token,
            snapshot_retention_limit=cfg.db_backup_days if cfg.multi_az else 0,
            apply_immediately=cfg.env != "prod",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["auth_token"]),
        )

    def _parameters(
        self, name: str, cfg: StackConfig, token: pulumi.Input[str], tags: dict[str, str]
    ) -> None:
        """The URLs the nodes read at start (SecureString in SSM, never in user data)."""
        child = pulumi.ResourceOptions(parent=self)
        urls = {
            "REDIS_URL": pulumi.Output.format(
                "rediss://:{0}@{1}:6379/0", token, self.cache.primary_endpoint_address
            ),
            "CELERY_BROKER_URL": pulumi.Output.format(
                "rediss://:{0}@{1}:6379/0?ssl_cert_reqs=required",
                token,
                self.broker.primary_endpoint_address,
            ),
            "DATABASE_HOST": self.database.address,
            "DATABASE_SECRET_ARN": self.database_secret_arn,
        }
        for key, value in urls.items():
            aws.ssm.Parameter(
                f"{name}-{key.lower().replace('_', '-')}",
                name=f"/stackyard/{cfg.env}/{key}",
                type="SecureString",
                value=pulumi.Output.secret(value),
                tags=tags,
                opts=child,
            )
