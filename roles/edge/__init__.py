"""Edge nodes: an nginx cache in front of the origin, from the CDN's own template.

The config is `apps/cdn/templates/nginx-edge.conf.j2` (the one `stackyard cdn up` runs),
rendered from host data and run by its own unit in the foreground; Debian's default nginx
(port 80, default site) stays off.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server

from roles import units
from roles.cdn_templates import render_cdn_template

HERE = Path(__file__).resolve().parent
CONFIG = "/etc/nginx/stackyard-edge.conf"
UNIT = "stackyard-edge.service"
UNIT_PATH = f"/etc/systemd/system/{UNIT}"
CACHE = "/var/cache/stackyard-edge"
TEMP = "/var/lib/stackyard-edge"
PURGE_MODULE = "/usr/lib/nginx/modules/ngx_http_cache_purge_module.so"


def zone_name(name: str) -> str:
    """The cache zone (and X-Edge) name: the host's name, made an nginx identifier."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return cleaned if cleaned[:1].isalpha() else f"edge-{cleaned}"


def nginx_context(data: Any) -> dict[str, Any]:
    """The CDN template's context for this edge (see the template's header for each key)."""
    origin = str(data.get("edge_origin") or data.get("origin") or "")
    if not origin:
        stack = data.get("stack", {})
        origin = str(stack.get("albDnsName", ""))
    if ":" not in origin:
        origin = f"{origin}:80"
    purge = bool(data.get("edge_purge_module", True))
    return {
        "edge": {
            "name": zone_name(str(data.get("node_name", "edge"))),
            "listen": str(data.get("edge_listen", "80")),
            "max_size": str(data.get("edge_cache_max_size", "2g")),
            "inactive": str(data.get("edge_cache_inactive", "600s")),
            "keys_zone_size": str(data.get("edge_keys_zone_size", "64m")),
        },
        "origin": origin,
        "paths": {
            "cache": CACHE,
            "temp": TEMP,
            "pid": "/run/stackyard-edge.pid",
            "access_log": "/var/log/nginx/stackyard-edge.access.log",
            "error_log": "/var/log/nginx/stackyard-edge.error.log",
        },
        "modules": [PURGE_MODULE] if purge else [],
        "purge_module": purge,
        "user": "www-data",
        "daemon": False,
    }


@deploy("edge")
def edge() -> None:
    context = nginx_context(host.data)
    packages = ["nginx-light"]
    if context["purge_module"]:
        packages.append("libnginx-mod-http-cache-purge")
    apt.packages(
        name="nginx",
        packages=packages,
        update=True,
        cache_time=3600,
        no_recommends=True,
    )
    units.stopped("nginx.service", unit_path="/lib/systemd/system/nginx.service")
    for folder in (CACHE, TEMP):
        files.directory(
            name=f"Folder {folder}", path=folder, user="www-data", group="www-data", mode="750"
        )
    config = files.put(
        name="nginx edge cache configuration (CDN template)",
        src=StringIO(render_cdn_template("nginx-edge.conf.j2", context)),
        dest=CONFIG,
        mode="644",
    )
    server.shell(
        name="Check the edge configuration (nginx -t)",
        commands=[f"nginx -t -q -c {CONFIG}"],
        _if=config.did_change,
    )
    unit = files.template(
        name=f"Unit {UNIT}",
        src=str(HERE / "stackyard-edge.service.j2"),
        dest=UNIT_PATH,
        mode="644",
        config=CONFIG,
    )
    units.daemon_reload_if([unit])
    units.running(UNIT, unit_path=UNIT_PATH, restart_on=[config, unit])
