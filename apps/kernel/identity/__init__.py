"""Identity (brief #21): users, login, JWT, sessions, roles; mounted at /auth for every app."""

from litestar import Router

from apps.kernel.identity.auth import (
    USER_REQUIRED,
    CurrentUser,
    ensure_owner,
    optional_user,
    requires_admin,
    requires_user,
    signed_in_user,
)

__all__ = [
    "USER_REQUIRED",
    "CurrentUser",
    "ensure_owner",
    "optional_user",
    "requires_admin",
    "requires_user",
    "router",
    "signed_in_user",
]


def __getattr__(name: str) -> Router:
    # The router is built on first use so importing the guards pulls in no routes.
    if name == "router":
        from apps.kernel.identity.routes import IdentityController

        return Router(path="/", route_handlers=[IdentityController])
    raise AttributeError(name)
