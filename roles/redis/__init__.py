"""Redis on a node, for environments without ElastiCache: two instances, as on AWS.

The cache (`allkeys-lru`, no persistence) and the Celery broker (`noeviction`, append-only
file) are separate servers, because one eviction policy cannot serve both: an evicted broker
key is a lost task. Debian's `redis-server@.service` runs `/etc/redis/redis-<name>.conf`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files

from roles import units

HERE = Path(__file__).resolve().parent
TEMPLATE_UNIT = "/lib/systemd/system/redis-server@.service"


def instances(data: Any) -> dict[str, dict[str, Any]]:
    """The two servers' settings by instance name."""
    return {
        "cache": {
            "port": int(data.get("redis_cache_port", 6379)),
            "policy": "allkeys-lru",
            "maxmemory": str(data.get("redis_cache_maxmemory", "256mb")),
            "appendonly": False,
        },
        "broker": {
            "port": int(data.get("redis_broker_port", 6380)),
            "policy": "noeviction",
            "maxmemory": str(data.get("redis_broker_maxmemory", "0")),
            "appendonly": True,
        },
    }


@deploy("redis")
def redis() -> None:
    apt.packages(
        name="Redis", packages=["redis-server"], update=True, cache_time=3600, no_recommends=True
    )
    units.stopped("redis-server.service", unit_path="/lib/systemd/system/redis-server.service")
    for name, settings in instances(host.data).items():
        files.directory(
            name=f"Data folder of redis {name}",
            path=f"/var/lib/redis/{name}",
            user="redis",
            group="redis",
            mode="750",
        )
        config = files.template(
            name=f"redis {name} configuration",
            src=str(HERE / "redis.conf.j2"),
            dest=f"/etc/redis/redis-{name}.conf",
            user="redis",
            group="redis",
            mode="640",
            instance=name,
            bind=str(host.data.get("redis_bind", "0.0.0.0")),
            **settings,
        )
        units.running(f"redis-server@{name}.service", unit_path=TEMPLATE_UNIT, restart_on=[config])
