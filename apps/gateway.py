"""Builds the Litestar application from any set of apps.

`create_app()` mounts every app at `/<app>` (identity at `/auth`); `create_app(["blog"])`
mounts a subset, which is how stacks/ deploys separate services behind the load balancer.
Importing this module opens no connection: plugins connect at startup.
"""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import Iterable, Sequence
from typing import Any

from litestar import Litestar, Router, get
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.response import Response

from apps.kernel import db
from apps.kernel.cache import close_redis, get_redis
from apps.kernel.errors import exception_handlers, problem
from apps.kernel.identity.auth import build_jwt_auth
from apps.kernel.logging import configure_logging
from apps.kernel.metrics import MetricsController
from apps.kernel.realtime import channels_plugin
from apps.kernel.settings import Settings, get_settings
from apps.kernel.tasks import configure as configure_tasks
from apps.kernel.telemetry import telemetry_middleware

VERSION = "0.1.0"
KERNEL_SEGMENTS = frozenset({"auth", "health", "ready", "metrics", "schema"})


class UnknownAppError(ValueError):
    """An app name that is not a folder of apps/."""


def available_apps() -> list[str]:
    """Every app with an HTTP API (its package exposes `router`), in mount order.

    Command-line-only apps (backups, the time tracker, ...) have no router and are skipped.
    """
    return [
        name
        for name in db.app_packages()
        if hasattr(importlib.import_module(f"apps.{name}"), "router")
    ]


def reserved_segments() -> frozenset[str]:
    """First path segments no catch-all route may shadow: the kernel's and every app's."""
    return KERNEL_SEGMENTS | frozenset(db.app_packages())


def app_description(name: str) -> str:
    module = importlib.import_module(f"apps.{name}")
    return (module.__doc__ or name).strip().splitlines()[0]


def load_routers(names: Iterable[str]) -> list[Router]:
    routers = []
    known = set(available_apps())
    for name in names:
        if name not in known:
            raise UnknownAppError(f"unknown app {name!r}; choose from {', '.join(sorted(known))}")
        module = importlib.import_module(f"apps.{name}")
        routers.append(module.router)
        # An app may also claim root paths no other route takes (the shortener's `/{code}`);
        # Litestar matches static segments first, so kernel and app prefixes always win.
        root_router = getattr(module, "root_router", None)
        if root_router is not None:
            routers.append(root_router)
    return routers


@get("/health", operation_id="Health", tags=["platform"], sync_to_thread=False)
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@get("/ready", operation_id="Ready", tags=["platform"])
async def ready() -> Response[Any]:
    """Readiness: the database answers and is migrated, and Redis answers."""
    checks: dict[str, str] = {}
    try:
        pending = await db.pending_migrations()
        checks["database"] = (
            "ok" if not pending else f"migrations pending: {', '.join(sorted(pending))}"
        )
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        await get_redis().ping()  # type: ignore[misc]  # redis-py 7 types it as a union
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    if all(value == "ok" for value in checks.values()):
        return Response({"status": "ready", "checks": checks})
    failing = ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok")
    return problem(
        503, "Not ready", failing, slug="not-ready", headers={"Retry-After": "5"}, checks=checks
    )


async def _close_connections() -> None:
    await close_redis()
    await db.dispose_engines()


def create_app(apps: Sequence[str] | None = None, settings: Settings | None = None) -> Litestar:
    """The platform application with `apps` mounted (all of them when None)."""
    settings = settings or get_settings()
    names = list(apps) if apps is not None else available_apps()
    configure_logging(settings.log_level)
    from apps.kernel.identity import router as identity_router

    # Apps enqueue Celery tasks from request handlers: point the producer at the broker.
    configure_tasks(settings)
    jwt_auth = build_jwt_auth(settings)
    app_tags = [Tag(name=name, description=app_description(name)) for name in names]
    return Litestar(
        route_handlers=[health, ready, MetricsController, identity_router, *load_routers(names)],
        plugins=[db.database_plugin(db.database_config(settings)), channels_plugin(settings)],
        on_app_init=[jwt_auth.on_app_init],
        middleware=[telemetry_middleware],
        exception_handlers=exception_handlers,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins), allow_credentials=True)
        if settings.cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="Stackyard",
            version=VERSION,
            description="Forty backend services on one kernel. Errors are RFC 9457 problem+json.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(path="/swagger")],
            tags=[Tag(name="identity", description="Sign-up, login, tokens, sessions"), *app_tags],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
        ),
        on_shutdown=[_close_connections],
        logging_config=None,
        debug=settings.debug,
    )


def create_app_from_env() -> Litestar:
    """Factory for server workers: the app subset comes from STACKYARD_APPS (comma-separated).

    What exists once the app is built (modules, models, routes: about 240,000 objects with
    every app) lives as long as the worker, so it is moved out of the cyclic collector's
    reach (`gc.freeze`). Otherwise each full collection walks all of it: 115 ms pauses every
    few seconds under load, measured with the leaderboard's benchmark.
    """
    raw = os.environ.get("STACKYARD_APPS", "")
    names = [part for part in raw.split(",") if part] or None
    app = create_app(names)
    gc.collect()
    gc.freeze()
    return app
