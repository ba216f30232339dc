"""Structured logging: one JSON line per request (request id, route, status, latency)."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"
access_logger = logging.getLogger("stackyard.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "granian.access"):
        logging.getLogger(noisy).disabled = True


def request_log_middleware(app: ASGIApp) -> ASGIApp:
    """Log each HTTP request once, after its response, and echo/assign `X-Request-ID`."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        raw_id = next((v for k, v in scope["headers"] if k == REQUEST_ID_HEADER), b"")
        request_id = raw_id.decode("latin-1")[:64] if raw_id else uuid.uuid4().hex
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
            if access_logger.isEnabledFor(logging.INFO):
                _log_request(scope, request_id, status, started)

    return middleware


def _log_request(scope: Scope, request_id: str, status: int, started: float) -> None:
    access_logger.info(
        "request",
        extra={
            "fields": {
                "request_id": request_id,
                "method": scope.get("method"),
                "route": scope.get("path_template") or scope.get("path"),
                "status": status,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            }
        },
    )
