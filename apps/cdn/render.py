"""Render a CdnConfig into nginx edge and HAProxy configs with the Jinja2 templates beside it.

The templates take plain dicts (documented at the top of each file), so the pyinfra `edge` and
`lb` roles can render them from host data without this module; `nginx_context` and
`haproxy_context` are how `cdn up` builds those dicts for a local run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from apps.cdn.config import CdnConfig, Edge

TEMPLATES = Path(__file__).resolve().parent / "templates"
PURGE_MODULE = Path("/usr/lib/nginx/modules/ngx_http_cache_purge_module.so")


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        autoescape=False,  # nginx/HAProxy configs, not HTML  # noqa: S701
    )


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)


def nginx_context(
    edge: Edge,
    *,
    listen: str,
    origin: str,
    folder: Path,
    user: str = "",
    daemon: bool = False,
    purge_module: bool = False,
) -> dict[str, Any]:
    """The nginx template's context for one edge whose files all live under `folder`."""
    keys_zone_mb = max(1, edge.cache_size_bytes // (8 * 1024 * 1024))  # ~8000 keys per MB
    return {
        "edge": {
            "name": edge.name,
            "listen": listen,
            "max_size": f"{max(1, edge.cache_size_bytes // 1024)}k",
            "inactive": f"{edge.inactive_s}s",
            "keys_zone_size": f"{keys_zone_mb}m",
        },
        "origin": origin,
        "paths": {
            "cache": str(folder / "cache"),
            "temp": str(folder / "temp"),
            "pid": str(folder / "nginx.pid"),
            "access_log": str(folder / "access.log"),
            "error_log": str(folder / "error.log"),
        },
        "modules": [str(PURGE_MODULE)] if purge_module else [],
        "purge_module": purge_module,
        "user": user,
        "daemon": daemon,
    }


def haproxy_context(
    config: CdnConfig,
    *,
    listen: str,
    servers: list[dict[str, str]],
    pid: Path,
    stats_listen: str = "",
    daemon: bool = False,
) -> dict[str, Any]:
    return {
        "listen": listen,
        "stats_listen": stats_listen,
        "lb": config.lb,
        "check_interval_ms": config.health_check_interval_ms,
        "check_fall": config.health_check_fall,
        "check_rise": 2,
        "servers": servers,
        "paths": {"pid": str(pid)},
        "daemon": daemon,
    }


def cache_file(cache_dir: Path, key: str) -> Path:
    """Where nginx keeps the entry for `key` under `levels=1:2` (what file purging deletes)."""
    digest = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
    return cache_dir / digest[-1] / digest[-3:-1] / digest


def nginx_config(context: dict[str, Any]) -> str:
    return render("nginx-edge.conf.j2", context)


def haproxy_config(context: dict[str, Any]) -> str:
    return render("haproxy.cfg.j2", context)
