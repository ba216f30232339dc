"""Shared fixtures.

Tests that use `stack` (directly or through `client`) run twice: on the embedded defaults
(SQLite + in-process Redis fake) and on the machine's real PostgreSQL and Redis, each run in
a fresh database and its own Redis database index, dropped at the end. Choose with
STACKYARD_TEST_BACKENDS=embedded,real. Where the servers are unreachable, the real half is
skipped with one loud line, except under CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.support import real_services

BACKENDS = [b for b in os.environ.get("STACKYARD_TEST_BACKENDS", "embedded,real").split(",") if b]

# Settings every test run shares: cheap password hashing, short windows the tests can reach.
TEST_ENV = {
    "PASSWORD_HASH_TIME_COST": "1",
    "PASSWORD_HASH_MEMORY_KIB": "1024",
    "LOGIN_MAX_FAILURES": "5",
    "LOGIN_WINDOW_SECONDS": "60",
    "LOGIN_MAX_FAILURES_PER_IP": "12",
    "FORWARDED_ALLOW_IPS": "*",
    "JWT_SECRET": "test-secret-" + "x" * 40,
    "LOG_LEVEL": "WARNING",
    "STACKYARD_EMBEDDED_WORKER": "false",
    # Third-party APIs: a closed local port unless a test points them at its fake.
    "VISUAL_CROSSING_BASE_URL": "http://127.0.0.1:9",
    "OPEN_METEO_BASE_URL": "http://127.0.0.1:9",
    "OPEN_METEO_GEOCODING_URL": "http://127.0.0.1:9",
}
STACK_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "STACKYARD_DATA_DIR",
    "EVENT_BUS_URL",
)


@dataclass
class Stack:
    """One backend the suite runs on: its environment and the data dir it owns."""

    name: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def real(self) -> bool:
        return self.name == "real"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "stack" in metafunc.fixturenames:
        metafunc.parametrize("stack", BACKENDS, indirect=True, scope="session")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.services)


@pytest.fixture(scope="session", autouse=True)
def _test_env() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*TEST_ENV, *STACK_VARS)}
    os.environ.update(TEST_ENV)
    for key in STACK_VARS:
        os.environ.pop(key, None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    from apps.kernel import cache, db
    from apps.kernel.settings import reset_settings

    name = request.param
    data_dir = tmp_path_factory.mktemp(f"stack-{name}")
    env = {"STACKYARD_DATA_DIR": str(data_dir)}
    cleanup = None
    if name == "real":
        problem = real_services.unreachable()
        if problem:
            message = (
                f"REAL SERVICES UNREACHABLE ({problem}): "
                "the Postgres/Redis half of the suite is skipped"
            )
            if os.environ.get("CI") == "true":
                pytest.fail(message + " -- not allowed under CI=true")
            print("\n" + "!" * 20 + " " + message)
            pytest.skip(message)
        database, redis_index, cleanup = real_services.provision()
        env["DATABASE_URL"] = database
        env["REDIS_URL"] = f"{real_services.REDIS_BASE}/{redis_index}"
    os.environ.update(env)
    reset_settings()
    cache.reset_fake()
    db.upgrade()
    try:
        yield Stack(name=name, data_dir=data_dir, env=env)
    finally:
        for key in env:
            os.environ.pop(key, None)
        reset_settings()
        if cleanup:
            cleanup()


@pytest.fixture(scope="session")
def app(stack: Stack) -> Any:
    from apps.gateway import create_app

    return create_app()


@pytest.fixture(scope="session")
def _session_client(app: Any) -> Iterator[TestClient[Any]]:
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def client(_session_client: TestClient[Any]) -> TestClient[Any]:
    """The stack's app behind Litestar's test client, with no cookies left by other tests."""
    _session_client.cookies.clear()
    _session_client.headers.pop("Authorization", None)
    return _session_client


@dataclass
class Account:
    id: str
    email: str
    password: str
    display_name: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def sign_up(client: TestClient[Any], *, admin: bool = False, name: str = "Test User") -> Account:
    email = unique_email("admin" if admin else "user")
    password = "a long enough passphrase"
    response = client.post(
        "/auth/signup", json={"email": email, "password": password, "display_name": name}
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    if admin:
        promote(email)
    login = client.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    client.cookies.clear()
    body = login.json()
    return Account(user_id, email, password, name, body["access_token"], body["refresh_token"])


def promote(email: str, role: str = "admin") -> None:
    from apps.kernel import db
    from apps.kernel.cache import close_redis, get_redis
    from apps.kernel.identity.services import IdentityService
    from apps.kernel.settings import get_settings

    async def run() -> None:
        try:
            async with db.session() as session:
                await IdentityService(session, get_redis(), get_settings()).set_role(email, role)
        finally:
            await close_redis()
            await db.dispose_engines()

    asyncio.run(run())


@pytest.fixture
def user(client: TestClient[Any]) -> Account:
    return sign_up(client, name="Alice")


@pytest.fixture
def other_user(client: TestClient[Any]) -> Account:
    return sign_up(client, name="Bob")


@pytest.fixture
def admin(client: TestClient[Any]) -> Account:
    return sign_up(client, admin=True, name="Admin")


@pytest.fixture(autouse=True)
def _no_event_loop_left_running() -> Iterator[None]:
    """Fail the test that leaves an event loop marked running in this thread, not the next.

    (Playwright's sync API marks its loop running while open: the scrape tests hold it in a
    module-scoped fixture, released before other modules run.)
    """
    import asyncio

    before = asyncio._get_running_loop()
    yield
    leaked = asyncio._get_running_loop()
    assert leaked is None or leaked is before, (
        f"this test left an event loop running in the main thread: {leaked}"
    )
