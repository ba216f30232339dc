"""One middleware per request for what every route reports: the access-log line, the request
metrics, and the `X-Request-ID` echo (assigned when the client sent none).

One wrapper instead of a logging and a metrics middleware: each layer of ASGI wrapping costs
per request, and both need the same start time, status and route template.
"""

from __future__ import annotations

import logging
import os
import time
from typing import cast

from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from apps.kernel.logging import access_logger, log_request
from apps.kernel.metrics import RequestMetrics, is_excluded, service_of

REQUEST_ID_HEADER = b"x-request-id"


def telemetry_middleware(app: ASGIApp) -> ASGIApp:
    """Log and count each HTTP request once, after its response."""
    metrics = RequestMetrics()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        raw_id = next((v for k, v in scope["headers"] if k == REQUEST_ID_HEADER), b"")
        request_id = raw_id.decode("latin-1")[:64] if raw_id else os.urandom(16).hex()
        path = scope["path"]
        method = cast("HTTPScope", scope)["method"]
        template = scope.get("path_template") or path
        counted = not is_excluded(path)
        service = service_of(path)
        running = metrics.started(method, template, service) if counted else None
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            if running is not None:
                running.dec()
                metrics.finished(method, template, status, service, time.perf_counter() - started)
            if access_logger.isEnabledFor(logging.INFO):
                log_request(scope, request_id, status, started)

    return middleware
