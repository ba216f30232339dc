"""Weather for a place: the Redis cache, single-flight fetches and stale-if-error.

Keys, for one provider, normalised location, unit system and number of days:

    weather:{provider}:{query}:{units}:{days}        the answer, SET EX WEATHER_CACHE_TTL
    weather-stale:{provider}:{query}:{units}:{days}  a copy kept WEATHER_STALE_GRACE longer
    weather-lock:{provider}:{query}:{units}:{days}   single-flight lock (SET NX PX, owner token)
    weather-unknown:{provider}:{query}               the provider does not know this place
    weather-outage:{provider}                        the provider just failed: leave it alone
    weather-place:{provider}:{query}                 geocoded place (Open-Meteo), 30 days

Of many concurrent requests for an uncached forecast, only the lock holder asks the provider;
the others poll the cache until the answer (or the failure) is there. While the provider is
failing, requests get the stale copy (marked `stale`) or a 503 with Retry-After, and the
provider is not asked again until the outage key expires.

Each server process also keeps the hot answers it has seen for WEATHER_LOCAL_CACHE_TTL
seconds (never past their freshness), so a popular city costs no Redis round trip per request.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import msgspec
from prometheus_client import Counter
from redis.asyncio import Redis

from apps.kernel.errors import NotFound, ServiceUnavailable, TooManyRequests
from apps.kernel.ratelimit import RateLimiter
from apps.weather.places import FIELD, Place
from apps.weather.providers import (
    Located,
    PlaceBook,
    PlaceNotFound,
    ProviderUnavailable,
    WeatherProvider,
    open_upstream,
    provider_for,
)
from apps.weather.schemas import UnitSystem, WeatherReport
from apps.weather.settings import WeatherSettings

MAX_DAYS = 15
LOCAL_COPIES = 1024
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

answers = Counter(
    "stackyard_weather_answers",
    "Weather answers by where they came from (fresh cache, provider, stale copy) or failure",
    ["provider", "source"],
)

ProviderFactory = Callable[[WeatherSettings, httpx.AsyncClient, PlaceBook], WeatherProvider]
PLACE_TTL = 30 * 24 * 3600
"""Places do not move: a geocoding answer is kept a month."""


@dataclass(frozen=True)
class CacheKeys:
    fresh: str
    stale: str
    lock: str
    unknown: str
    outage: str

    @classmethod
    def of(cls, provider: str, place: Place, units: UnitSystem, days: int) -> CacheKeys:
        # `place.query` holds no colon (places.py refuses it), so keys cannot run together.
        entry = f"{provider}:{place.query}:{units}:{days}"
        return cls(
            fresh=f"weather:{entry}",
            stale=f"weather-stale:{entry}",
            lock=f"weather-lock:{entry}",
            unknown=f"weather-unknown:{provider}:{place.query}",
            outage=f"weather-outage:{provider}",
        )


@dataclass(frozen=True)
class Served:
    """A report and what HTTP caches need to know about it."""

    report: WeatherReport
    age: int
    """Seconds since the provider produced it."""
    fresh_for: int
    """Seconds it stays fresh (0 when stale)."""


def _decode(raw: str | bytes | None) -> WeatherReport | None:
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw, type=WeatherReport)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None  # written by an older schema: a miss, replaced by the next fetch


def _age(report: WeatherReport) -> int:
    return max(0, int((datetime.now(UTC) - report.fetched_at).total_seconds()))


class LocalCopies:
    """This process's copies of fresh answers, each kept until a deadline (oldest evicted)."""

    def __init__(self, capacity: int = LOCAL_COPIES) -> None:
        self.capacity = capacity
        self._copies: dict[str, tuple[float, WeatherReport]] = {}

    def get(self, key: str) -> WeatherReport | None:
        entry = self._copies.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._copies.pop(key, None)
            return None
        return entry[1]

    def keep(self, key: str, report: WeatherReport, seconds: float) -> None:
        if seconds <= 0:
            return
        self._copies.pop(key, None)
        while len(self._copies) >= self.capacity:
            self._copies.pop(next(iter(self._copies)))
        self._copies[key] = (time.monotonic() + seconds, report)

    def clear(self) -> None:
        self._copies.clear()


local_copies = LocalCopies()


class RedisPlaceBook:
    """Geocoding answers in Redis, shared by every server process."""

    def __init__(self, redis: Redis, provider: str) -> None:
        self.redis = redis
        self.provider = provider

    def _key(self, query: str) -> str:
        return f"weather-place:{self.provider}:{query}"

    async def recall(self, query: str) -> Located | None:
        raw = await self.redis.get(self._key(query))
        if raw is None:
            return None
        try:
            return msgspec.json.decode(raw, type=tuple[str, float, float])
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None

    async def remember(self, query: str, located: Located) -> None:
        await self.redis.set(self._key(query), msgspec.json.encode(located), ex=PLACE_TTL)


class WeatherService:
    """Forecasts through the cache; the provider is asked once per key however many wait."""

    def __init__(
        self,
        redis: Redis,
        settings: WeatherSettings,
        *,
        open_provider: ProviderFactory = provider_for,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.open_provider = open_provider
        self.provider_name = settings.provider

    async def admit(self, client: str) -> None:
        """Count one request of `client` against its sliding-window limit."""
        limit, window = self.settings.rate_limit, self.settings.rate_window
        if limit == 0:
            return
        limiter = RateLimiter(self.redis, "weather-rate", limit=limit, window=window)
        decision = await limiter.hit(client)
        if not decision.allowed:
            raise TooManyRequests(
                f"At most {limit} weather requests per {window} s; "
                f"try again in {decision.retry_after} s",
                retry_after=decision.retry_after,
            )

    async def weather(self, place: Place, units: UnitSystem, days: int) -> Served:
        """The forecast from the cache, else from the provider (one fetch per key at a time)."""
        if not 1 <= days <= MAX_DAYS:
            raise ValueError(f"days must be 1..{MAX_DAYS}")
        keys = CacheKeys.of(self.provider_name, place, units, days)
        copy = local_copies.get(keys.fresh)
        if copy is not None:
            return self._served(copy, "cache")
        deadline = time.monotonic() + self.settings.lock_ttl
        pause = 0.01
        while True:
            settled = await self._settled(keys)
            if settled is not None:
                return settled
            token = uuid.uuid4().hex
            lock_ms = math.ceil(self.settings.lock_ttl * 1000)
            if await self.redis.set(keys.lock, token, nx=True, px=lock_ms):
                try:
                    # The previous holder may have settled the key since we looked.
                    return await self._settled(keys) or await self._fetch(keys, place, units, days)
                finally:
                    await self.redis.eval(_RELEASE, 1, keys.lock, token)  # type: ignore[misc]
            if time.monotonic() > deadline:
                return await self._stale_or_unavailable(
                    keys, "Another request is still fetching this forecast", 1
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)

    async def _settled(self, keys: CacheKeys) -> Served | None:
        """What Redis already knows: the answer, an unknown place, or an outage; else None."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.mget(keys.fresh, keys.unknown, keys.outage)
            pipe.pttl(keys.outage)
            (fresh, unknown, outage), outage_ms = await pipe.execute()
        report = _decode(fresh)
        if report is not None:
            self._keep_locally(keys, report)
            return self._served(report, "cache")
        if unknown is not None:
            answers.labels(self.provider_name, "unknown").inc()
            raise NotFound(unknown, field=FIELD)
        if outage is not None:
            retry_after = math.ceil(max(outage_ms, 1000) / 1000)
            return await self._stale_or_unavailable(keys, outage, retry_after)
        return None

    def _keep_locally(self, keys: CacheKeys, report: WeatherReport) -> None:
        fresh_for = (
            self.settings.cache_ttl - (datetime.now(UTC) - report.fetched_at).total_seconds()
        )
        local_copies.keep(keys.fresh, report, min(self.settings.local_cache_ttl, fresh_for))

    def _served(self, report: WeatherReport, source: str) -> Served:
        answers.labels(self.provider_name, source).inc()
        age = _age(report)
        if source == "provider":
            return Served(report, 0, self.settings.cache_ttl)
        cached = msgspec.structs.replace(report, cached=True, stale=source == "stale")
        fresh_for = 0 if source == "stale" else max(0, self.settings.cache_ttl - age)
        return Served(cached, age, fresh_for)

    async def _fetch(self, keys: CacheKeys, place: Place, units: UnitSystem, days: int) -> Served:
        # Another lock holder may have stored the answer between our read and our lock.
        report = _decode(await self.redis.get(keys.fresh))
        if report is not None:
            return self._served(report, "cache")
        settings = self.settings
        try:
            async with open_upstream(settings) as http:
                places = RedisPlaceBook(self.redis, self.provider_name)
                provider = self.open_provider(settings, http, places)
                async with asyncio.timeout(settings.fetch_budget):
                    report = await provider.forecast(place, units, days)
        except PlaceNotFound as exc:
            if settings.not_found_ttl:
                await self.redis.set(keys.unknown, str(exc), ex=settings.not_found_ttl)
            answers.labels(self.provider_name, "unknown").inc()
            raise NotFound(str(exc), field=FIELD) from None
        except (ProviderUnavailable, TimeoutError) as exc:
            failure = (
                exc
                if isinstance(exc, ProviderUnavailable)
                else ProviderUnavailable(
                    f"{self.provider_name} took too long", retry_after=settings.outage_cooldown
                )
            )
            await self.redis.set(keys.outage, failure.detail, ex=failure.retry_after)
            return await self._stale_or_unavailable(keys, failure.detail, failure.retry_after)
        await self._store(keys, report)
        self._keep_locally(keys, report)
        return self._served(report, "provider")

    async def _store(self, keys: CacheKeys, report: WeatherReport) -> None:
        value = msgspec.json.encode(report).decode()
        ttl, grace = self.settings.cache_ttl, self.settings.stale_grace
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.fresh, value, ex=ttl)
            if grace:
                pipe.set(keys.stale, value, ex=ttl + grace)
            pipe.delete(keys.outage)
            await pipe.execute()

    async def _stale_or_unavailable(self, keys: CacheKeys, detail: str, retry_after: int) -> Served:
        """Stale-if-error: the expired copy, marked stale; without one, 503 with Retry-After."""
        report = _decode(await self.redis.get(keys.stale))
        if report is not None:
            return self._served(report, "stale")
        answers.labels(self.provider_name, "unavailable").inc()
        raise ServiceUnavailable(
            f"The weather provider is unavailable: {detail}", retry_after=retry_after
        )
