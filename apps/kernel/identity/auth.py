"""JWT authentication for every app: bearer header or session cookie, optional by default.

Requests without credentials pass through as anonymous (`request.user is None`); the guards
below decide which handlers need a user. Cookie-authenticated unsafe requests must echo the
CSRF cookie in `X-CSRF-Token` (double submit), so a browser session cannot be ridden by
another site. The user is built from the token's claims, without a database read; a role
change takes effect at the next refresh (the access token lives `ACCESS_TOKEN_TTL` seconds).
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTCookieAuth, JWTCookieAuthenticationMiddleware, Token
from redis.exceptions import RedisError

from apps.kernel.errors import Forbidden
from apps.kernel.identity.denylist import is_denied
from apps.kernel.settings import Settings

SESSION_COOKIE = "stackyard_session"
REFRESH_COOKIE = "stackyard_refresh"
CSRF_COOKIE = "stackyard_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
ROLES = ("user", "admin")
logger = logging.getLogger("stackyard.auth")


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user, as the access token describes them."""

    id: UUID
    email: str
    display_name: str
    role: str
    session_id: UUID | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def deny_key_for_token(jti: str) -> str:
    return f"auth:deny:jti:{jti}"


def deny_key_for_session(session_id: UUID | str) -> str:
    return f"auth:deny:sid:{session_id}"


async def _retrieve_user(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> CurrentUser | None:
    extras = token.extras
    try:
        session_id = extras.get("sid")
        return CurrentUser(
            id=UUID(token.sub),
            email=str(extras["email"]),
            display_name=str(extras.get("name", "")),
            role=str(extras.get("role", "user")),
            session_id=UUID(session_id) if session_id else None,
        )
    except (KeyError, ValueError):
        return None


async def _is_revoked(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    keys = [deny_key_for_token(str(token.jti))] if token.jti else []
    if token.extras.get("sid"):
        keys.append(deny_key_for_session(token.extras["sid"]))
    if not keys:
        return False
    try:
        return await is_denied(keys)
    except RedisError:
        # The deny-list is unreachable. Failing closed would sign every user out during a
        # Redis outage; access tokens live ACCESS_TOKEN_TTL seconds, so accept and say so.
        logger.warning("token deny-list unreachable; accepting token %s unchecked", token.jti)
        return False


class VerifiedTokens:
    """Access tokens verified recently, by their encoded form: decoded token and user.

    Verifying the signature and claims of the same token on every request of a session costs
    more than the rest of authentication; a token's content never changes, so a hit only
    re-checks expiry (and the deny-list, as every request does). Bounded: the oldest entry
    goes first. Keyed by secret too, so apps with different secrets never share an entry.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: dict[tuple[str, str], tuple[Token, CurrentUser, float]] = {}

    def get(self, secret: str, encoded: str) -> tuple[Token, CurrentUser] | None:
        entry = self._entries.get((secret, encoded))
        if entry is None:
            return None
        if entry[2] <= time.time():
            self._entries.pop((secret, encoded), None)
            return None
        return entry[0], entry[1]

    def put(self, secret: str, encoded: str, token: Token, user: CurrentUser) -> None:
        if len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[(secret, encoded)] = (token, user, token.exp.timestamp())

    def clear(self) -> None:
        self._entries.clear()


VERIFIED_TOKENS = VerifiedTokens()


class OptionalJWTCookieMiddleware(JWTCookieAuthenticationMiddleware):
    """Litestar's JWT cookie middleware, with anonymous requests allowed and CSRF checked."""

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        """Verify the token (or find it verified in `VERIFIED_TOKENS`), then the deny-list."""
        hit = VERIFIED_TOKENS.get(self.token_secret, encoded_token)
        if hit is None:
            result = await super().authenticate_token(encoded_token, connection)
            if isinstance(result.user, CurrentUser) and isinstance(result.auth, Token):
                VERIFIED_TOKENS.put(self.token_secret, encoded_token, result.auth, result.user)
            return result
        token, user = hit
        if self.revoked_token_handler and await self.revoked_token_handler(token, connection):
            raise NotAuthorizedException()
        return AuthenticationResult(user=user, auth=token)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        result = await self._credentials(connection)
        if result.user is None:
            handler = connection.scope.get("route_handler")
            if handler is not None and handler.opt.get(USER_REQUIRED_OPT):
                raise NotAuthorizedException(SIGN_IN_FIRST)
        return result

    async def _credentials(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        # A bearer header wins over the cookie; read straight from the scope (no header map).
        wanted = self.auth_header.lower().encode("latin-1")
        raw = next((v for k, v in connection.scope["headers"] if k == wanted), b"")
        header_token = raw.decode("latin-1").partition(" ")[-1]
        if header_token:
            return await self.authenticate_token(encoded_token=header_token, connection=connection)
        cookie_token = connection.cookies.get(self.auth_cookie_key, "")
        if not cookie_token:
            return AuthenticationResult(user=None, auth=None)
        if connection.scope.get("method", "GET") not in SAFE_METHODS:
            sent = connection.headers.get(CSRF_HEADER, "")
            expected = connection.cookies.get(CSRF_COOKIE, "")
            if not sent or not expected or not hmac.compare_digest(sent, expected):
                raise PermissionDeniedException(
                    "Cookie-authenticated requests must send the CSRF token in X-CSRF-Token"
                )
        return await self.authenticate_token(encoded_token=cookie_token, connection=connection)


def build_jwt_auth(settings: Settings) -> JWTCookieAuth[CurrentUser, Token]:
    return JWTCookieAuth[CurrentUser, Token](
        retrieve_user_handler=_retrieve_user,
        revoked_token_handler=_is_revoked,
        token_secret=settings.jwt_secret,
        key=SESSION_COOKIE,
        default_token_expiration=timedelta(seconds=settings.access_token_ttl),
        authentication_middleware_class=OptionalJWTCookieMiddleware,
        samesite="lax",
        exclude=["^/schema", "^/metrics", "^/health", "^/ready"],
        description="A bearer access token from POST /auth/login, or the session cookie it sets.",
    )


# ---- guards and helpers every app uses ------------------------------------------------------

SIGN_IN_FIRST = "Sign in first: send a bearer token or the session cookie"
USER_REQUIRED_OPT = "user_required"
USER_REQUIRED = {USER_REQUIRED_OPT: True}
"""Route `opt` for hot paths: the same 401 as `guards=[requires_user]`, checked by the
authentication middleware itself, without the copy of the handler Litestar makes for every
guard call (benchmarks/leaderboard.py)."""


# Guards are coroutines: Litestar runs a plain-function guard in a worker thread, which costs
# more than the check itself on every request (tests/kernel/test_guards.py keeps them async).


async def requires_user(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: the request must carry a valid access token."""
    if connection.scope.get("user") is None:
        raise NotAuthorizedException(SIGN_IN_FIRST)


async def requires_admin(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: the request must come from an admin."""
    await requires_user(connection, handler)
    if connection.scope["user"].role != "admin":
        raise PermissionDeniedException("Administrators only")


def optional_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    return connection.scope.get("user")


def signed_in_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException("Sign in first: send a bearer token or the session cookie")
    return user


def ensure_owner(user: CurrentUser, owner_id: UUID, *, what: str = "resource") -> None:
    """Raise Forbidden unless `user` owns the thing (or is an admin)."""
    if user.id != owner_id and not user.is_admin:
        raise Forbidden(f"Only the owner of this {what} or an admin may change it")
