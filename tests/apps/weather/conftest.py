"""Weather tests talk only to the fake upstream on 127.0.0.1, never to the real providers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from apps.weather.settings import reset_weather_settings
from tests.apps.weather.fake_upstream import API_KEY, FakeUpstream, start_fake_upstream

# Short timeouts and backoffs so failure paths take a fraction of a second.
WEATHER_TEST_ENV = {
    "WEATHER_UPSTREAM_TIMEOUT": "1",
    "WEATHER_UPSTREAM_RETRIES": "1",
    "WEATHER_RETRY_BACKOFF": "0.01",
    "WEATHER_OUTAGE_COOLDOWN": "5",
    "WEATHER_RATE_LIMIT": "10000",
    "WEATHER_CACHE_TTL": "43200",
    "WEATHER_STALE_GRACE": "86400",
}


@pytest.fixture(scope="session")
def fake_upstream_server() -> Iterator[FakeUpstream]:
    fake, server = start_fake_upstream()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def fake(
    fake_upstream_server: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeUpstream]:
    """Every provider URL points at the fake (reset for each test); Open-Meteo by default."""
    fake_upstream_server.reset()
    for name in ("VISUAL_CROSSING_BASE_URL", "OPEN_METEO_BASE_URL", "OPEN_METEO_GEOCODING_URL"):
        monkeypatch.setenv(name, fake_upstream_server.url)
    for name, value in WEATHER_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("VISUAL_CROSSING_API_KEY", raising=False)
    monkeypatch.delenv("WEATHER_PROVIDER", raising=False)
    reset_weather_settings()
    yield fake_upstream_server
    fake_upstream_server.heal()
    reset_weather_settings()


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch):
    """Set weather variables for this test: `configure(WEATHER_CACHE_TTL="1")`."""

    def apply(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        reset_weather_settings()

    return apply


@pytest.fixture(params=["visualcrossing", "open-meteo"])
def provider(request: pytest.FixtureRequest, configure) -> str:
    """Run the test once per provider: Visual Crossing with a key, Open-Meteo without."""
    if request.param == "visualcrossing":
        configure(VISUAL_CROSSING_API_KEY=API_KEY)
    return request.param


async def _clear_weather_keys() -> None:
    from apps.kernel.cache import create_redis
    from apps.weather.services import local_copies

    local_copies.clear()
    redis = create_redis()
    try:
        keys = [key async for key in redis.scan_iter(match="weather*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.fixture
def clean_cache(stack) -> None:
    """No weather keys from earlier tests of this run (places repeat across tests)."""
    asyncio.run(_clear_weather_keys())


@pytest.fixture
async def redis(clean_cache) -> AsyncIterator[object]:
    """This test loop's Redis client (real Redis or the embedded fake), closed afterwards."""
    from apps.kernel.cache import close_redis, get_redis

    yield get_redis()
    await close_redis()
