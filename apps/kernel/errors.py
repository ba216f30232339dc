"""One mapping of domain errors to RFC 9457 `application/problem+json`.

Services raise `DomainError` subclasses (no HTTP objects there); this module turns them, and
Litestar's own validation and HTTP errors, into problem documents that name the field.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from advanced_alchemy.exceptions import (
    DuplicateKeyError,
)
from advanced_alchemy.exceptions import (
    IntegrityError as AAIntegrityError,
)
from advanced_alchemy.exceptions import (
    NotFoundError as AANotFoundError,
)
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://stackyard.dev/problems/"

logger = logging.getLogger("stackyard.errors")


class DomainError(Exception):
    """An error the domain expects; carries the HTTP status its problem document gets."""

    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.headers = headers or {}
        self.extra = extra or {}


class NotFound(DomainError):
    status, title, slug = 404, "Not found", "not-found"


class Forbidden(DomainError):
    status, title, slug = 403, "Forbidden", "forbidden"


class Unauthorized(DomainError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "Authentication required", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="stackyard"'})
        super().__init__(detail, **kwargs)


class Conflict(DomainError):
    status, title, slug = 409, "Conflict", "conflict"


class Invalid(DomainError):
    """A well-formed request whose values break a domain rule (422)."""

    status, title, slug = 422, "Invalid value", "invalid"

    def __init__(self, field: str, detail: str, **kwargs: Any) -> None:
        super().__init__(detail, field=field, **kwargs)


class TooManyRequests(DomainError):
    status, title, slug = 429, "Too many requests", "rate-limited"

    def __init__(self, detail: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    status, title, slug = 503, "Service unavailable", "unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5, **kwargs: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **kwargs)


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    instance: str | None = None,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_MSGSPEC_PATH = re.compile(r" - at `\$\.?([^`]*)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


def _field_errors(exc: ValidationException) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    extra = exc.extra if isinstance(exc.extra, list) else [exc.extra] if exc.extra else []
    for item in extra:
        if not isinstance(item, dict):
            errors.append({"field": None, "message": str(item)})
            continue
        message = str(item.get("message", exc.detail))
        key = item.get("key")
        match = _MSGSPEC_PATH.search(message)
        if match and match.group(1):
            key = match.group(1).replace("[", ".").replace("]", "")
            message = _MSGSPEC_PATH.sub("", message)
        missing = _MISSING_FIELD.search(message)
        if missing:
            # "Object missing required field `ids`" names the field inside the object at `key`.
            prefix = f"{key}." if key and key != "data" and match else ""
            key = prefix + missing.group(1)
        errors.append({"field": key, "message": message, "source": item.get("source")})
    return errors


def _validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = _field_errors(exc)
    fields = [e["field"] for e in errors if e.get("field")]
    if fields:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors if e.get("field"))
    else:
        detail = (
            exc.detail
            if exc.detail and exc.detail != "Bad Request"
            else "Request body is not valid"
        )
    status = 400 if "malformed" in detail.lower() or "JSON is malformed" in detail else 422
    return problem(
        status,
        "Validation failed" if status == 422 else "Malformed request",
        detail,
        slug="validation" if status == 422 else "malformed",
        instance=request.url.path,
        field=fields[0] if fields else None,
        errors=errors or None,
    )


def _domain_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        slug=exc.slug,
        instance=request.url.path,
        field=exc.field,
        headers=exc.headers,
        **exc.extra,
    )


def _http_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    title = {
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
    }.get(status, "Error" if status >= 500 else "Bad request")
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="stackyard"')
    return problem(
        status,
        title,
        exc.detail,
        slug=title.lower().replace(" ", "-"),
        instance=request.url.path,
        headers=headers,
    )


def _not_found_handler(request: Request[Any, Any, Any], exc: AANotFoundError) -> Response[Any]:
    return problem(
        404, "Not found", "No such resource", slug="not-found", instance=request.url.path
    )


def _integrity_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.info("integrity error on %s: %s", request.url.path, exc)
    return problem(
        409,
        "Conflict",
        "The change conflicts with existing data",
        slug="conflict",
        instance=request.url.path,
    )


def _data_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The database refused a value the schema let through (a NUL byte, a date out of its
    # range, a string longer than its column): the client's input, so 422, not 500.
    original = getattr(exc, "orig", None)
    lines = str(original if original is not None else exc).strip().splitlines()
    reason = lines[0][:200] if lines else type(exc).__name__
    logger.info("data error on %s: %s", request.url.path, exc)
    return problem(
        422,
        "Invalid value",
        f"A value cannot be stored: {reason}",
        slug="invalid",
        instance=request.url.path,
    )


def _unavailable(request: Request[Any, Any, Any], detail: str, retry_after: int) -> Response[Any]:
    """503: the request may be fine, a backing service cannot serve it right now."""
    return problem(
        503,
        "Service unavailable",
        detail,
        slug="unavailable",
        instance=request.url.path,
        headers={"Retry-After": str(retry_after)},
    )


def _redis_down_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.warning("redis unavailable on %s: %s", request.url.path, exc)
    return _unavailable(request, "A backing service is unavailable; try again shortly", 5)


def _sqlstate(exc: Exception) -> str:
    original = getattr(exc, "orig", None)
    for source in (original, getattr(original, "__cause__", None)):
        code = getattr(source, "sqlstate", None) or getattr(source, "pgcode", None)
        if code:
            return str(code)
    return ""


def _dbapi_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # Drivers do not always raise the specific SQLAlchemy class; the SQLSTATE says what
    # happened: class 22 is bad data from the client, class 23 a constraint violation.
    state = _sqlstate(exc)
    if state.startswith("22"):
        return _data_error_handler(request, exc)
    if state.startswith("23"):
        return _integrity_handler(request, exc)
    if getattr(exc, "connection_invalidated", False) or state.startswith(("08", "57P")):
        # The connection was lost (class 08) or the server is shutting down (57P): the pool
        # has been invalidated, and the next request gets a fresh connection.
        logger.warning("database connection lost on %s: %s", request.url.path, exc)
        return _unavailable(request, "The database connection was lost; try again", 1)
    return _internal_handler(request, exc)


def _internal_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        500,
        "Internal error",
        "The server failed to handle this request",
        slug="internal",
        instance=request.url.path,
    )


exception_handlers: ExceptionHandlersMap = {
    ValidationException: _validation_handler,
    DomainError: _domain_handler,
    HTTPException: _http_handler,
    AANotFoundError: _not_found_handler,
    DuplicateKeyError: _integrity_handler,
    AAIntegrityError: _integrity_handler,
    IntegrityError: _integrity_handler,
    DataError: _data_error_handler,
    DBAPIError: _dbapi_handler,
    RedisConnectionError: _redis_down_handler,
    RedisTimeoutError: _redis_down_handler,
    Exception: _internal_handler,
}

__all__ = [
    "PROBLEM_JSON",
    "Conflict",
    "DomainError",
    "Forbidden",
    "Invalid",
    "MediaType",
    "NotFound",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "exception_handlers",
    "problem",
]
