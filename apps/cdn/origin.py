"""The origin as its own small server for `cdn up`: the cdn app with the kernel's health,
metrics, errors and JWT auth, and no other app (a teammate's half-built app cannot stop it).

Inside the platform (`stackyard serve`) the same routes are mounted by the gateway.
"""

from __future__ import annotations

from litestar import Litestar

from apps.gateway import health
from apps.kernel.cache import close_redis
from apps.kernel.errors import exception_handlers
from apps.kernel.identity.auth import build_jwt_auth
from apps.kernel.logging import configure_logging
from apps.kernel.metrics import MetricsController
from apps.kernel.settings import get_settings
from apps.kernel.telemetry import telemetry_middleware


def create_origin_app() -> Litestar:
    from apps.cdn import router

    settings = get_settings()
    configure_logging(settings.log_level)
    return Litestar(
        route_handlers=[health, MetricsController, router],
        on_app_init=[build_jwt_auth(settings).on_app_init],
        middleware=[telemetry_middleware],
        exception_handlers=exception_handlers,
        on_shutdown=[close_redis],
        logging_config=None,
        openapi_config=None,
    )
