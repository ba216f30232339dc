"""Single-flight and stale-if-error, proved by counting the fake upstream's calls.

On both backends (embedded fake Redis and the real server): the lock and the cache are in
Redis, so the requests below share nothing in-process but the Redis server.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from apps.kernel.cache import create_redis, get_redis
from apps.kernel.errors import NotFound, ServiceUnavailable
from apps.weather.places import parse_place
from apps.weather.services import CacheKeys, Served, WeatherService
from apps.weather.settings import get_weather_settings
from tests.apps.weather.fake_upstream import FakeUpstream

CONCURRENT = 100


def _service(redis=None) -> WeatherService:
    return WeatherService(redis or get_redis(), get_weather_settings())


def _upstream_calls(fake: FakeUpstream, provider: str) -> dict[str, int]:
    if provider == "visualcrossing":
        return {"timeline": fake.count("timeline")}
    return {"search": fake.count("search"), "forecast": fake.count("forecast")}


def _fail_everything(fake: FakeUpstream, **kwargs) -> None:
    for endpoint in ("timeline", "search", "forecast"):
        fake.fail(endpoint, **kwargs)


async def _concurrently(location: str, days: int = 5, *, connections: int = 4) -> list[Served]:
    """CONCURRENT requests spread over several Redis connections, like several servers."""
    clients = [create_redis() for _ in range(connections)]
    place = parse_place(location)
    try:
        return await asyncio.gather(
            *(
                _service(clients[i % connections]).weather(place, "metric", days)
                for i in range(CONCURRENT)
            )
        )
    finally:
        for client in clients:
            await client.aclose()


async def test_concurrent_requests_for_an_uncached_city_call_the_provider_once(
    redis, provider: str, configure, fake: FakeUpstream
) -> None:
    configure(WEATHER_UPSTREAM_TIMEOUT="10")  # a slow answer on a busy machine is no outage
    fake.delay = 0.3
    served = await _concurrently("London")
    assert _upstream_calls(fake, provider) == (
        {"timeline": 1} if provider == "visualcrossing" else {"search": 1, "forecast": 1}
    )
    assert sum(not s.report.cached for s in served) == 1
    assert len({s.report.fetched_at for s in served}) == 1
    assert not any(s.report.stale for s in served)


async def test_concurrent_http_requests_call_the_provider_once(
    redis, configure, fake: FakeUpstream
) -> None:
    from apps.gateway import create_app

    configure(WEATHER_UPSTREAM_TIMEOUT="10")
    fake.delay = 0.3
    transport = httpx.ASGITransport(app=create_app(["weather"]))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        responses = await asyncio.gather(
            *(http.get("/weather/S%C3%A3o%20Paulo?days=2") for _ in range(CONCURRENT))
        )
    assert {r.status_code for r in responses} == {200}
    assert sorted(r.json()["cached"] for r in responses) == [False] + [True] * (CONCURRENT - 1)
    assert (fake.count("search"), fake.count("forecast")) == (1, 1)


async def test_waiters_share_the_holders_not_found(redis, configure, fake: FakeUpstream) -> None:
    configure(WEATHER_UPSTREAM_TIMEOUT="10")
    fake.delay = 0.2
    place = parse_place("Atlantis")
    results = await asyncio.gather(
        *(_service().weather(place, "metric", 3) for _ in range(20)), return_exceptions=True
    )
    assert all(isinstance(r, NotFound) and r.field == "location" for r in results)
    assert fake.count("search") == 1


class _HolderFinishesFirst:
    """Redis, except that the previous lock holder settles the key just before we lock it."""

    def __init__(self, redis, settle_key: str) -> None:
        self._redis, self._settle_key = redis, settle_key

    def __getattr__(self, name: str):
        return getattr(self._redis, name)

    async def set(self, name: str, value: str, **options):
        if options.get("nx"):
            await self._redis.set(self._settle_key, "no such place as atlantis", ex=60)
        return await self._redis.set(name, value, **options)


async def test_a_lock_taken_after_the_holder_settled_does_not_ask_again(redis, fake) -> None:
    place = parse_place("Atlantis")
    keys = CacheKeys.of(get_weather_settings().provider, place, "metric", 3)
    service = _service(_HolderFinishesFirst(redis, keys.unknown))
    with pytest.raises(NotFound, match="no such place as atlantis"):
        await service.weather(place, "metric", 3)
    assert fake.count() == 0
    assert await redis.get(keys.lock) is None  # released


async def test_an_abandoned_lock_expires_and_a_waiter_takes_over(redis, fake) -> None:
    service = _service(redis)
    place = parse_place("Tokyo")
    keys = CacheKeys.of(service.provider_name, place, "metric", 3)
    await redis.set(keys.lock, "a server that crashed mid-fetch", px=300)
    started = time.monotonic()
    served = await service.weather(place, "metric", 3)
    assert time.monotonic() - started >= 0.25
    assert served.report.cached is False
    assert fake.count("forecast") == 1


async def test_an_expired_entry_is_served_stale_while_the_provider_fails(
    redis, provider: str, configure, fake: FakeUpstream
) -> None:
    configure(WEATHER_CACHE_TTL="1", WEATHER_STALE_GRACE="60")
    service = _service(redis)
    place = parse_place("Paris,FR")
    fresh = await service.weather(place, "metric", 4)
    await asyncio.sleep(1.2)  # past WEATHER_CACHE_TTL: the fresh key is gone
    before = fake.count()
    _fail_everything(fake, status=500)

    stale = await service.weather(place, "metric", 4)
    assert (stale.report.cached, stale.report.stale) == (True, True)
    assert stale.report.fetched_at == fresh.report.fetched_at
    assert stale.fresh_for == 0 and stale.age >= 1
    attempts = 1 + get_weather_settings().upstream_retries
    assert fake.count() - before == attempts

    # While the outage lasts the provider is left alone: many requests, no more calls.
    served = await _concurrently("Paris,FR", days=4)
    assert all(s.report.stale for s in served)
    assert fake.count() - before == attempts


async def test_one_fetch_per_outage_however_many_request_at_once(
    redis, configure, fake: FakeUpstream
) -> None:
    configure(WEATHER_CACHE_TTL="1")
    place = parse_place("Tokyo")
    await _service(redis).weather(place, "metric", 5)
    await asyncio.sleep(1.2)
    before = fake.count()
    fake.delay = 0.1
    _fail_everything(fake, status=503)
    served = await _concurrently("Tokyo")
    assert all(s.report.stale and s.report.cached for s in served)
    assert fake.count() - before == 1 + get_weather_settings().upstream_retries


async def test_without_a_stale_copy_an_outage_is_a_503(redis, configure, fake) -> None:
    configure(WEATHER_STALE_GRACE="0", WEATHER_OUTAGE_COOLDOWN="7")
    _fail_everything(fake, mode="hang")
    with pytest.raises(ServiceUnavailable) as caught:
        await _service(redis).weather(parse_place("London"), "us", 2)
    assert caught.value.status == 503
    assert caught.value.headers["Retry-After"] == "7"


async def test_after_the_outage_the_provider_is_asked_again(redis, configure, fake) -> None:
    configure(WEATHER_CACHE_TTL="1", WEATHER_OUTAGE_COOLDOWN="1")
    service = _service(redis)
    place = parse_place("London")
    await service.weather(place, "metric", 1)
    await asyncio.sleep(1.1)
    _fail_everything(fake, status=500)
    assert (await service.weather(place, "metric", 1)).report.stale is True
    fake.heal()
    await asyncio.sleep(1.1)  # the outage key expires
    recovered = await service.weather(place, "metric", 1)
    assert (recovered.report.cached, recovered.report.stale) == (False, False)


async def test_a_hot_answer_is_kept_in_process_for_the_local_ttl(redis, configure, fake) -> None:
    configure(WEATHER_LOCAL_CACHE_TTL="30")
    service = _service(redis)
    place = parse_place("London")
    await service.weather(place, "metric", 2)
    await redis.delete(CacheKeys.of(service.provider_name, place, "metric", 2).fresh)
    served = await service.weather(place, "metric", 2)  # no Redis read: this process's copy
    assert served.report.cached is True
    assert fake.count("forecast") == 1


async def test_without_local_copies_every_answer_comes_from_redis(redis, configure, fake) -> None:
    configure(WEATHER_LOCAL_CACHE_TTL="0")
    service = _service(redis)
    place = parse_place("London")
    await service.weather(place, "metric", 2)
    await redis.delete(CacheKeys.of(service.provider_name, place, "metric", 2).fresh)
    assert (await service.weather(place, "metric", 2)).report.cached is False
    assert fake.count("forecast") == 2


async def test_a_local_copy_never_outlives_its_freshness(redis, configure, fake) -> None:
    configure(WEATHER_CACHE_TTL="1", WEATHER_LOCAL_CACHE_TTL="60")
    service = _service(redis)
    place = parse_place("Tokyo")
    await service.weather(place, "metric", 2)
    await asyncio.sleep(1.2)
    assert (await service.weather(place, "metric", 2)).report.cached is False
    assert fake.count("forecast") == 2
