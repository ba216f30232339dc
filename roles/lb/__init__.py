"""Load balancer nodes (environments without the ALB): HAProxy over the app nodes.

The config is the CDN's `apps/cdn/templates/haproxy.cfg.j2`, whose backend checks `GET /health`
on every server, which is what `stackyard serve` answers.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server

from roles import units
from roles.cdn_templates import render_cdn_template

CONFIG = "/etc/haproxy/haproxy.cfg"


def haproxy_context(data: Any) -> dict[str, Any]:
    """The CDN template's context: every app node on its serve port."""
    port = int(data.get("app_port", 8000))
    servers = [
        {"name": entry["name"], "address": f"{entry['private_ip']}:{port}"}
        for entry in data.get("fleet", {}).get("app", [])
    ]
    return {
        "listen": str(data.get("lb_listen", ":80")),
        "stats_listen": str(data.get("lb_stats_listen", "127.0.0.1:8404")),
        "lb": str(data.get("lb_algorithm", "leastconn")),
        "check_interval_ms": int(data.get("lb_check_interval_ms", 2000)),
        "check_fall": int(data.get("lb_check_fall", 3)),
        "check_rise": int(data.get("lb_check_rise", 2)),
        "servers": servers,
        "paths": {"pid": "/run/haproxy.pid"},
        "daemon": False,
    }


@deploy("lb")
def lb() -> None:
    context = haproxy_context(host.data)
    apt.packages(name="HAProxy", packages=["haproxy"], update=True, cache_time=3600)
    config = files.put(
        name="HAProxy configuration (CDN template)",
        src=StringIO(render_cdn_template("haproxy.cfg.j2", context)),
        dest=CONFIG,
        mode="644",
    )
    server.shell(
        name="Check the HAProxy configuration (haproxy -c)",
        commands=[f"haproxy -c -q -f {CONFIG}"],
        _if=config.did_change,
    )
    units.running(
        "haproxy.service", unit_path="/lib/systemd/system/haproxy.service", restart_on=[config]
    )
