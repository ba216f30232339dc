"""No route pays a worker-thread hop for a plain function: guards, dependencies and handlers
of every app are coroutines, or sync functions Litestar is told to call inline.

Litestar runs a plain-function guard or dependency in a thread pool (`sync_to_thread`),
which costs more than a guard's check on every request.
"""

from __future__ import annotations

from typing import Any

from litestar.utils.sync import AsyncCallable


def _handlers(app: Any) -> list[Any]:
    seen: dict[int, Any] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", None) or [route.route_handler]:
            seen.setdefault(id(handler), (route.path, handler))
    return list(seen.values())


def test_no_guard_dependency_or_handler_runs_in_a_thread(app):
    found = []
    handlers = _handlers(app)
    assert len(handlers) > 100
    for path, handler in handlers:
        for guard in handler.resolve_guards():
            if isinstance(guard, AsyncCallable):
                found.append(f"{path}: guard {guard.func.__name__} is a plain function")
        for name, provider in handler.resolve_dependencies().items():
            if provider.has_sync_callable and provider.sync_to_thread:
                found.append(f"{path}: dependency {name} runs in a thread")
        if getattr(handler, "has_sync_callable", False) and handler.sync_to_thread:
            found.append(f"{path}: handler {handler.handler_name} runs in a thread")
    assert not found, "\n".join(found)


def test_user_required_opt_answers_like_the_guard(client, user):
    from litestar import Litestar, post
    from litestar.testing import TestClient

    from apps.kernel.errors import exception_handlers
    from apps.kernel.identity import USER_REQUIRED, requires_user
    from apps.kernel.identity.auth import build_jwt_auth
    from apps.kernel.settings import get_settings

    @post("/guarded", guards=[requires_user], status_code=200)
    async def guarded(data: dict[str, int]) -> dict[str, int]:
        return data

    @post("/opted", opt=USER_REQUIRED, status_code=200)
    async def opted(data: dict[str, int]) -> dict[str, int]:
        return data

    app = Litestar(
        [guarded, opted],
        on_app_init=[build_jwt_auth(get_settings()).on_app_init],
        exception_handlers=exception_handlers,
    )
    with TestClient(app, base_url="http://127.0.0.1") as own:
        for path in ("/guarded", "/opted"):
            # Anonymous: 401 before the body is even read, so a bad body is still a 401.
            anonymous = own.post(path, content=b"{not json")
            assert anonymous.status_code == 401, path
            assert anonymous.json()["detail"].startswith("Sign in first"), path
            signed_in = own.post(path, json={"n": 1}, headers=user.headers)
            assert signed_in.status_code == 200 and signed_in.json() == {"n": 1}, path
