"""Who is on the other end of a WebSocket: the kernel's access tokens and deny-list.

Browsers cannot set headers on a WebSocket, so the token travels as a subprotocol: the client
offers `Sec-WebSocket-Protocol: bearer, <access token>` and the server accepts `bearer`. A
session cookie also works (the gateway's JWT middleware reads it), but only from an allowed
Origin, so another site cannot ride a signed-in browser (cross-site WebSocket hijacking).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.connection import WebSocket
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

from apps.kernel.errors import Unauthorized
from apps.kernel.identity.auth import SESSION_COOKIE, CurrentUser

# The same claims mapping and deny-list check as HTTP requests (they ignore the connection).
from apps.kernel.identity.auth import _is_revoked as _token_revoked
from apps.kernel.identity.auth import _retrieve_user as _user_from_token
from apps.kernel.settings import Settings, get_settings

BEARER_PROTOCOL = "bearer"


async def verify_access_token(token: str, settings: Settings | None = None) -> CurrentUser:
    """The user of a valid, unrevoked access token; raises Unauthorized otherwise."""
    settings = settings or get_settings()
    try:
        decoded = Token.decode(token, secret=settings.jwt_secret, algorithm="HS256")
    except NotAuthorizedException:
        raise Unauthorized("The access token is invalid or expired") from None
    if await _token_revoked(decoded, None):  # type: ignore[arg-type]
        raise Unauthorized("The access token has been revoked")
    user = await _user_from_token(decoded, None)  # type: ignore[arg-type]
    if user is None:
        raise Unauthorized("The access token does not describe a user")
    return user


def offered_token(socket: WebSocket[Any, Any, Any]) -> str | None:
    """The token after `bearer` in the offered subprotocols, if any."""
    offered = [p.strip() for p in socket.scope.get("subprotocols", [])]
    if BEARER_PROTOCOL in offered:
        index = offered.index(BEARER_PROTOCOL)
        if index + 1 < len(offered):
            return offered[index + 1]
    return None


def _origin_allowed(socket: WebSocket[Any, Any, Any], settings: Settings) -> bool:
    origin = socket.headers.get("origin")
    if origin is None:
        return True  # not a browser: no ambient cookie to ride
    allowed = {settings.public_url, *settings.cors_origins}
    host = socket.headers.get("host", "")
    return origin in allowed or urlsplit(origin).netloc == host


async def socket_user(
    socket: WebSocket[Any, Any, Any], settings: Settings | None = None
) -> tuple[CurrentUser | None, str | None]:
    """The connection's user (or None) and the subprotocol to accept with.

    Raises Unauthorized for a bad token, or a session cookie sent from a foreign Origin.
    """
    settings = settings or get_settings()
    token = offered_token(socket)
    if token is not None:
        return await verify_access_token(token, settings), BEARER_PROTOCOL
    user = socket.scope.get("user")
    cookie_user = user is not None and SESSION_COOKIE in socket.cookies
    if cookie_user and not _origin_allowed(socket, settings):
        raise Unauthorized("Cookie-authenticated WebSockets must come from an allowed Origin")
    return user, None
