"""Weather providers behind one small protocol: Visual Crossing's Timeline API and Open-Meteo.

Each turns its provider's request and response formats into our `WeatherReport`. They share
one transport: httpx with a timeout per attempt and bounded retries with jittered exponential
backoff after timeouts, network errors and 5xx answers. A 429 is never retried (Visual
Crossing forbids retry loops around its limits); its Retry-After is passed on instead.
An unknown place (HTTP 400 or 404) is `PlaceNotFound`; anything else that keeps an answer
from us is `ProviderUnavailable`, carrying how long to wait.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Protocol, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import certifi
import httpx
import msgspec
from prometheus_client import Counter

from apps.weather.places import Place
from apps.weather.schemas import (
    UNITS,
    CurrentConditions,
    DailyForecast,
    ProviderName,
    ResolvedLocation,
    UnitSystem,
    WeatherKind,
    WeatherReport,
)
from apps.weather.settings import WeatherSettings

logger = logging.getLogger("stackyard.weather")

TIMELINE_PATH = "/VisualCrossingWebServices/rest/services/timeline"
FORECAST_PATH = "/v1/forecast"
GEOCODING_PATH = "/v1/search"
USER_AGENT = "stackyard-weather/0.1 (+https://stackyard.dev)"
MAX_RETRY_AFTER = 3600

upstream_requests = Counter(
    "stackyard_weather_upstream_requests",
    "HTTP requests the weather app sent to its provider, by outcome",
    ["provider", "outcome"],
)


class PlaceNotFound(Exception):
    """The provider does not know the place (it answered 400/404, or geocoding found nothing)."""


class ProviderUnavailable(Exception):
    """The provider cannot answer now: rate-limited, failing, too slow or unreachable."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = max(1, min(retry_after, MAX_RETRY_AFTER))


class WeatherProvider(Protocol):
    """Where forecasts come from; one implementation per upstream service."""

    name: ProviderName

    async def forecast(self, place: Place, units: UnitSystem, days: int) -> WeatherReport:
        """Current conditions and `days` daily forecasts, starting today (local time)."""
        ...


Located = tuple[str, float, float]
"""A place's label, latitude and longitude."""


class PlaceBook(Protocol):
    """Where geocoding answers are remembered, so a place is looked up once, not per fetch."""

    async def recall(self, query: str) -> Located | None: ...

    async def remember(self, query: str, located: Located) -> None: ...


# ---- transport ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    # Built once: loading the CA bundle for every client would cost more than the request.
    return ssl.create_default_context(cafile=certifi.where())


def open_upstream(settings: WeatherSettings) -> httpx.AsyncClient:
    """An HTTP client with the configured timeout per attempt; close it after the fetch."""
    timeout = settings.upstream_timeout
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
        verify=_tls(),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        follow_redirects=False,
    )


def retry_after_seconds(response: httpx.Response, default: int) -> int:
    """The response's Retry-After (seconds or an HTTP date), else `default`."""
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return default
    if raw.isdigit():
        return int(raw)
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(1, int((moment - datetime.now(UTC)).total_seconds()))


class Upstream:
    """GET with timeouts and bounded, jittered retries; statuses mapped to our two failures."""

    def __init__(
        self, http: httpx.AsyncClient, settings: WeatherSettings, provider: ProviderName
    ) -> None:
        self.http = http
        self.settings = settings
        self.provider = provider

    def _count(self, outcome: str) -> None:
        upstream_requests.labels(provider=self.provider, outcome=outcome).inc()

    async def get(self, url: str, params: Mapping[str, str | int], *, place: str) -> bytes:
        settings = self.settings
        cooldown = settings.outage_cooldown
        failure = ProviderUnavailable(f"{self.provider} was not asked", retry_after=cooldown)
        for attempt in range(settings.upstream_retries + 1):
            if attempt:
                pause = settings.retry_backoff * 2 ** (attempt - 1)
                await asyncio.sleep(pause * random.uniform(0.5, 1.0))
            try:
                response = await self.http.get(url, params=dict(params))
            except httpx.TimeoutException:
                outcome = "timeout"
                failure = ProviderUnavailable(
                    f"{self.provider} did not answer within {settings.upstream_timeout:g} s",
                    retry_after=cooldown,
                )
            except httpx.RequestError as exc:
                outcome = "network"
                failure = ProviderUnavailable(
                    f"{self.provider} could not be reached ({type(exc).__name__})",
                    retry_after=cooldown,
                )
            else:
                status = response.status_code
                if status == 200:
                    self._count("ok")
                    return response.content
                if status in (400, 404):
                    self._count("not_found")
                    raise PlaceNotFound(f"{self.provider} does not know a place called {place!r}")
                if status == 429:
                    self._count("rate_limited")
                    raise ProviderUnavailable(
                        f"{self.provider} is limiting our requests; try again later",
                        retry_after=retry_after_seconds(response, 60),
                    )
                if status in (401, 403):
                    self._count("refused")
                    logger.error("%s refused our credentials (HTTP %s)", self.provider, status)
                    raise ProviderUnavailable(
                        f"{self.provider} refused the service's credentials", retry_after=300
                    )
                if status < 500:
                    self._count("unexpected")
                    raise ProviderUnavailable(
                        f"{self.provider} answered HTTP {status}", retry_after=cooldown
                    )
                outcome = "server_error"
                failure = ProviderUnavailable(
                    f"{self.provider} failed with HTTP {status}",
                    retry_after=retry_after_seconds(response, cooldown),
                )
            self._count(outcome)
            logger.warning(
                "%s attempt %d/%d: %s",
                self.provider,
                attempt + 1,
                settings.upstream_retries + 1,
                failure.detail,
            )
        raise failure


T = TypeVar("T")


def decode(body: bytes, shape: type[T], provider: ProviderName, cooldown: int) -> T:
    """Parse a provider document into its typed shape; anything else is the provider's fault."""
    try:
        return msgspec.json.decode(body, type=shape)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        logger.warning("%s sent an unexpected document: %s", provider, exc)
        raise ProviderUnavailable(
            f"{provider} sent a document we cannot read", retry_after=cooldown
        ) from None


def local_zone(name: str, offset_seconds: float | None) -> tzinfo:
    """The location's IANA zone, or its fixed UTC offset when the zone is unknown here."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return timezone(timedelta(seconds=round(offset_seconds or 0)))


def local_time(text: str | None, zone: tzinfo) -> datetime | None:
    """A provider's local wall-clock time (`2026-01-05T08:17`) made aware in `zone`."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def from_epoch(seconds: float | None, zone: tzinfo) -> datetime | None:
    return datetime.fromtimestamp(seconds, zone) if seconds is not None else None


# ---- Visual Crossing Timeline API -----------------------------------------------------------
# GET {base}/VisualCrossingWebServices/rest/services/timeline/{location}
#     ?key=&unitGroup=metric|us&include=current,days&iconSet=icons2&contentType=json
# No dates: the 15-day forecast from today (local), of which the first `days` are kept.


class _VcConditions(msgspec.Struct):
    datetimeEpoch: float | None = None
    temp: float | None = None
    feelslike: float | None = None
    humidity: float | None = None
    windspeed: float | None = None
    winddir: float | None = None
    precip: float | None = None
    conditions: str | None = None
    icon: str | None = None


class _VcDay(msgspec.Struct):
    datetime: date
    tempmax: float | None = None
    tempmin: float | None = None
    precip: float | None = None
    precipprob: float | None = None
    conditions: str | None = None
    icon: str | None = None
    sunriseEpoch: float | None = None
    sunsetEpoch: float | None = None


class _VcTimeline(msgspec.Struct):
    latitude: float
    longitude: float
    resolvedAddress: str
    timezone: str
    tzoffset: float | None = None
    currentConditions: _VcConditions | None = None
    days: list[_VcDay] = []


def kind_from_icon(icon: str | None) -> WeatherKind:
    """Visual Crossing icon names (icons1 and icons2 sets) to our kinds."""
    name = (icon or "").lower()
    if not name:
        return "unknown"
    if "thunder" in name:
        return "thunderstorm"
    if name in {"sleet", "hail"} or name.startswith("rain-snow"):
        return "sleet"
    if name.startswith("snow"):
        return "snow"
    if name.startswith("showers"):
        return "showers"
    if name == "rain":
        return "rain"
    if name.startswith("partly-cloudy"):
        return "partly-cloudy"
    if name.startswith("clear"):
        return "clear"
    if name in {"cloudy", "fog", "wind"}:
        return name  # type: ignore[return-value]
    return "unknown"


def _percent(value: float | None) -> float | None:
    return None if value is None else min(100.0, max(0.0, value))


def _degrees(value: float | None) -> float | None:
    return None if value is None else value % 360


class VisualCrossing:
    """The Timeline Weather API (needs VISUAL_CROSSING_API_KEY)."""

    name: ProviderName = "visualcrossing"

    def __init__(self, http: httpx.AsyncClient, settings: WeatherSettings) -> None:
        if not settings.visual_crossing_api_key:
            raise ValueError("Visual Crossing needs VISUAL_CROSSING_API_KEY")
        self.settings = settings
        self.upstream = Upstream(http, settings, self.name)

    async def forecast(self, place: Place, units: UnitSystem, days: int) -> WeatherReport:
        location = quote(place.query, safe=",")
        url = f"{self.settings.visual_crossing_base_url}{TIMELINE_PATH}/{location}"
        params = {
            "key": self.settings.visual_crossing_api_key or "",
            "unitGroup": units,
            "include": "current,days",
            "iconSet": "icons2",
            "lang": "en",
            "contentType": "json",
        }
        body = await self.upstream.get(url, params, place=place.query)
        doc = decode(body, _VcTimeline, self.name, self.settings.outage_cooldown)
        current = doc.currentConditions
        if current is None or current.datetimeEpoch is None or not doc.days:
            raise ProviderUnavailable(
                f"{self.name} sent no current conditions or forecast",
                retry_after=self.settings.outage_cooldown,
            )
        zone = local_zone(doc.timezone, (doc.tzoffset or 0) * 3600)
        return WeatherReport(
            query=place.query,
            location=ResolvedLocation(
                name=doc.resolvedAddress,
                latitude=doc.latitude,
                longitude=doc.longitude,
                timezone=doc.timezone,
            ),
            units=UNITS[units],
            current=CurrentConditions(
                time=datetime.fromtimestamp(current.datetimeEpoch, zone),
                temperature=current.temp,
                feels_like=current.feelslike,
                humidity=_percent(current.humidity),
                wind_speed=current.windspeed,
                wind_direction=_degrees(current.winddir),
                precipitation=current.precip,
                conditions=current.conditions or "",
                kind=kind_from_icon(current.icon),
            ),
            days=[
                DailyForecast(
                    date=day.datetime,
                    temp_max=day.tempmax,
                    temp_min=day.tempmin,
                    precipitation=day.precip,
                    precipitation_probability=_percent(day.precipprob),
                    conditions=day.conditions or "",
                    kind=kind_from_icon(day.icon),
                    sunrise=from_epoch(day.sunriseEpoch, zone),
                    sunset=from_epoch(day.sunsetEpoch, zone),
                )
                for day in doc.days[:days]
            ],
            provider=self.name,
            fetched_at=datetime.now(UTC),
            cached=False,
            stale=False,
        )


# ---- Open-Meteo: geocoding + forecast -------------------------------------------------------
# GET {geocoding}/v1/search?name=&count=&language=en&format=json -> {"results": [...]} (the key
#     is absent when nothing matches)
# GET {base}/v1/forecast?latitude=&longitude=&current=...&daily=...&timezone=auto
#     &forecast_days=N[&temperature_unit=fahrenheit&wind_speed_unit=mph&precipitation_unit=inch]
# Errors are HTTP 400 with {"error": true, "reason": "..."}.

WMO_CODES: dict[int, tuple[str, WeatherKind]] = {
    0: ("Clear sky", "clear"),
    1: ("Mainly clear", "clear"),
    2: ("Partly cloudy", "partly-cloudy"),
    3: ("Overcast", "cloudy"),
    45: ("Fog", "fog"),
    48: ("Depositing rime fog", "fog"),
    51: ("Light drizzle", "drizzle"),
    53: ("Moderate drizzle", "drizzle"),
    55: ("Dense drizzle", "drizzle"),
    56: ("Light freezing drizzle", "drizzle"),
    57: ("Dense freezing drizzle", "drizzle"),
    61: ("Slight rain", "rain"),
    63: ("Moderate rain", "rain"),
    65: ("Heavy rain", "rain"),
    66: ("Light freezing rain", "sleet"),
    67: ("Heavy freezing rain", "sleet"),
    71: ("Slight snow fall", "snow"),
    73: ("Moderate snow fall", "snow"),
    75: ("Heavy snow fall", "snow"),
    77: ("Snow grains", "snow"),
    80: ("Slight rain showers", "showers"),
    81: ("Moderate rain showers", "showers"),
    82: ("Violent rain showers", "showers"),
    85: ("Slight snow showers", "snow"),
    86: ("Heavy snow showers", "snow"),
    95: ("Thunderstorm", "thunderstorm"),
    96: ("Thunderstorm with slight hail", "thunderstorm"),
    99: ("Thunderstorm with heavy hail", "thunderstorm"),
}
CURRENT_VARIABLES = (
    "temperature_2m",
    "apparent_temperature",
    "relative_humidity_2m",
    "precipitation",
    "weather_code",
    "wind_speed_10m",
    "wind_direction_10m",
)
DAILY_VARIABLES = (
    "weather_code",
    "temperature_2m_max",
    "temperature_2m_min",
    "precipitation_sum",
    "precipitation_probability_max",
    "sunrise",
    "sunset",
)
US_UNITS = {
    "temperature_unit": "fahrenheit",
    "wind_speed_unit": "mph",
    "precipitation_unit": "inch",
}


def describe_wmo(code: int | None) -> tuple[str, WeatherKind]:
    if code is None:
        return "", "unknown"
    return WMO_CODES.get(code, (f"Weather code {code}", "unknown"))


class _OmPlace(msgspec.Struct):
    name: str
    latitude: float
    longitude: float
    country: str | None = None
    country_code: str | None = None
    admin1: str | None = None
    admin2: str | None = None
    timezone: str | None = None


class _OmSearch(msgspec.Struct):
    results: list[_OmPlace] = []


class _OmCurrent(msgspec.Struct):
    time: str
    temperature_2m: float | None = None
    apparent_temperature: float | None = None
    relative_humidity_2m: float | None = None
    precipitation: float | None = None
    weather_code: int | None = None
    wind_speed_10m: float | None = None
    wind_direction_10m: float | None = None


class _OmDaily(msgspec.Struct):
    time: list[date]
    weather_code: list[int | None] = []
    temperature_2m_max: list[float | None] = []
    temperature_2m_min: list[float | None] = []
    precipitation_sum: list[float | None] = []
    precipitation_probability_max: list[float | None] = []
    sunrise: list[str | None] = []
    sunset: list[str | None] = []


class _OmForecast(msgspec.Struct):
    latitude: float
    longitude: float
    timezone: str
    current: _OmCurrent
    daily: _OmDaily
    utc_offset_seconds: int = 0


V = TypeVar("V")


def _at(values: Sequence[V | None], index: int) -> V | None:
    return values[index] if index < len(values) else None


def _matches(result: _OmPlace, qualifiers: Sequence[str]) -> bool:
    """`paris,fr` or `paris,texas`: every qualifier names the country, its code or a region."""
    names = [
        value.casefold()
        for value in (result.country, result.country_code, result.admin1, result.admin2)
        if value
    ]
    return all(any(name.startswith(q) for name in names) for q in qualifiers)


def _place_label(result: _OmPlace) -> str:
    parts: list[str] = []
    for part in (result.name, result.admin1, result.country):
        if part and part not in parts:
            parts.append(part)
    return ", ".join(parts)


class OpenMeteo:
    """Open-Meteo's geocoding and forecast APIs (no key needed)."""

    name: ProviderName = "open-meteo"

    def __init__(
        self, http: httpx.AsyncClient, settings: WeatherSettings, places: PlaceBook | None = None
    ) -> None:
        self.settings = settings
        self.upstream = Upstream(http, settings, self.name)
        self.places = places

    async def locate(self, place: Place) -> Located:
        """The label and coordinates of the place; coordinates need no look-up."""
        if place.latitude is not None and place.longitude is not None:
            return place.query, place.latitude, place.longitude
        known = await self.places.recall(place.query) if self.places else None
        if known is not None:
            return known
        located = await self._geocode(place)
        if self.places:
            await self.places.remember(place.query, located)
        return located

    async def _geocode(self, place: Place) -> Located:
        params: dict[str, str | int] = {
            "name": place.name,
            "count": 10 if place.qualifiers else 1,
            "language": "en",
            "format": "json",
        }
        url = f"{self.settings.open_meteo_geocoding_url}{GEOCODING_PATH}"
        body = await self.upstream.get(url, params, place=place.query)
        found = decode(body, _OmSearch, self.name, self.settings.outage_cooldown).results
        chosen = next((r for r in found if _matches(r, place.qualifiers)), None)
        if chosen is None:
            raise PlaceNotFound(f"{self.name} does not know a place called {place.query!r}")
        return _place_label(chosen), chosen.latitude, chosen.longitude

    async def forecast(self, place: Place, units: UnitSystem, days: int) -> WeatherReport:
        label, latitude, longitude = await self.locate(place)
        params: dict[str, str | int] = {
            "latitude": f"{latitude:.4f}",
            "longitude": f"{longitude:.4f}",
            "current": ",".join(CURRENT_VARIABLES),
            "daily": ",".join(DAILY_VARIABLES),
            "timezone": "auto",
            "forecast_days": days,
        }
        if units == "us":
            params.update(US_UNITS)
        url = f"{self.settings.open_meteo_base_url}{FORECAST_PATH}"
        body = await self.upstream.get(url, params, place=place.query)
        doc = decode(body, _OmForecast, self.name, self.settings.outage_cooldown)
        zone = local_zone(doc.timezone, doc.utc_offset_seconds)
        current, daily = doc.current, doc.daily
        now_time = local_time(current.time, zone)
        if now_time is None or not daily.time:
            raise ProviderUnavailable(
                f"{self.name} sent no current conditions or forecast",
                retry_after=self.settings.outage_cooldown,
            )
        conditions, kind = describe_wmo(current.weather_code)
        forecast_days = []
        for i, day in enumerate(daily.time[:days]):
            day_conditions, day_kind = describe_wmo(_at(daily.weather_code, i))
            forecast_days.append(
                DailyForecast(
                    date=day,
                    temp_max=_at(daily.temperature_2m_max, i),
                    temp_min=_at(daily.temperature_2m_min, i),
                    precipitation=_at(daily.precipitation_sum, i),
                    precipitation_probability=_percent(_at(daily.precipitation_probability_max, i)),
                    conditions=day_conditions,
                    kind=day_kind,
                    sunrise=local_time(_at(daily.sunrise, i), zone),
                    sunset=local_time(_at(daily.sunset, i), zone),
                )
            )
        return WeatherReport(
            query=place.query,
            location=ResolvedLocation(
                name=label, latitude=latitude, longitude=longitude, timezone=doc.timezone
            ),
            units=UNITS[units],
            current=CurrentConditions(
                time=now_time,
                temperature=current.temperature_2m,
                feels_like=current.apparent_temperature,
                humidity=_percent(current.relative_humidity_2m),
                wind_speed=current.wind_speed_10m,
                wind_direction=_degrees(current.wind_direction_10m),
                precipitation=current.precipitation,
                conditions=conditions,
                kind=kind,
            ),
            days=forecast_days,
            provider=self.name,
            fetched_at=datetime.now(UTC),
            cached=False,
            stale=False,
        )


def provider_for(
    settings: WeatherSettings, http: httpx.AsyncClient, places: PlaceBook | None = None
) -> WeatherProvider:
    """Visual Crossing when configured with a key, else Open-Meteo (remembering places)."""
    if settings.provider == "visualcrossing":
        return VisualCrossing(http, settings)
    return OpenMeteo(http, settings, places)
