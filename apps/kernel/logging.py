"""Structured logging: JSON lines; one per request (request id, route, status, latency),
written by the kernel's telemetry middleware (apps/kernel/telemetry.py)."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from litestar.types import Scope

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


def log_request(scope: Scope, request_id: str, status: int, started: float) -> None:
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
