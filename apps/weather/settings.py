"""Settings of the weather app, read from the environment (the kernel needs none of them).

With `VISUAL_CROSSING_API_KEY` set the app asks Visual Crossing (the brief's choice);
without it, Open-Meteo, which needs no key, so `make run` works for anyone online.
Every base URL is a setting so tests and staging can point the app at a stand-in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from apps.kernel.settings import SettingsError
from apps.weather.schemas import ProviderName

PROVIDERS: tuple[ProviderName, ...] = ("visualcrossing", "open-meteo")

VISUAL_CROSSING_URL = "https://weather.visualcrossing.com"
OPEN_METEO_URL = "https://api.open-meteo.com"
OPEN_METEO_GEOCODING = "https://geocoding-api.open-meteo.com"


@dataclass(frozen=True)
class WeatherSettings:
    """Which provider to ask, where it is, and how patiently; how long answers are kept."""

    provider: ProviderName
    visual_crossing_api_key: str | None
    visual_crossing_base_url: str
    open_meteo_base_url: str
    open_meteo_geocoding_url: str
    cache_ttl: int
    """Seconds a forecast is served as fresh (the brief's 12 hours by default)."""
    stale_grace: int
    """Seconds an expired forecast is still kept, to be served (marked stale) in an outage."""
    not_found_ttl: int
    """Seconds an unknown place is remembered as unknown, so it is not asked again."""
    outage_cooldown: int
    """Seconds the provider is left alone after it failed (answers come from stale copies)."""
    local_cache_ttl: int
    """Seconds a server process keeps its own copy of a hot answer (never past its freshness)."""
    rate_limit: int
    """Requests each client may make per `rate_window` seconds; 0 turns the limit off."""
    rate_window: int
    upstream_timeout: float
    """Seconds one HTTP attempt may take (connect, write, read)."""
    upstream_retries: int
    """Further attempts after a timeout, a network error or a 5xx (never after a 429)."""
    retry_backoff: float
    """Seconds before the first retry; doubled for each next one, with jitter."""

    @property
    def calls_per_fetch(self) -> int:
        """Upstream requests one forecast needs: Open-Meteo geocodes first."""
        return 1 if self.provider == "visualcrossing" else 2

    @property
    def fetch_budget(self) -> float:
        """The longest a fetch with all its retries may last; the single-flight lock outlives it."""
        attempts = self.upstream_retries + 1
        backoffs = sum(self.retry_backoff * 2**n for n in range(self.upstream_retries))
        return self.calls_per_fetch * (attempts * self.upstream_timeout + backoffs)

    @property
    def lock_ttl(self) -> float:
        return self.fetch_budget + 2.0


def _int(name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number of seconds/requests") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise SettingsError(f"{name}={value} must be {bound}")
    return value


def _seconds(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name}={value} must be between {minimum} and {maximum} seconds")
    return value


def _base_url(name: str, default: str) -> str:
    raw = os.environ.get(name, "").strip() or default
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SettingsError(f"{name}={raw!r} must be an http(s) URL such as {default}")
    if parts.query or parts.fragment:
        raise SettingsError(f"{name}={raw!r} must not carry a query or a fragment")
    return raw.rstrip("/")


def _provider(api_key: str | None) -> ProviderName:
    raw = os.environ.get("WEATHER_PROVIDER", "").strip().lower()
    if raw in {"", "auto"}:
        return "visualcrossing" if api_key else "open-meteo"
    if raw not in PROVIDERS:
        raise SettingsError(f"WEATHER_PROVIDER={raw!r} is not one of auto, {', '.join(PROVIDERS)}")
    if raw == "visualcrossing" and not api_key:
        raise SettingsError("WEATHER_PROVIDER=visualcrossing needs VISUAL_CROSSING_API_KEY")
    return raw  # type: ignore[return-value]


def load_weather_settings() -> WeatherSettings:
    """Read and check the weather variables; raises SettingsError naming the bad one."""
    api_key = os.environ.get("VISUAL_CROSSING_API_KEY", "").strip() or None
    return WeatherSettings(
        provider=_provider(api_key),
        visual_crossing_api_key=api_key,
        visual_crossing_base_url=_base_url("VISUAL_CROSSING_BASE_URL", VISUAL_CROSSING_URL),
        open_meteo_base_url=_base_url("OPEN_METEO_BASE_URL", OPEN_METEO_URL),
        open_meteo_geocoding_url=_base_url("OPEN_METEO_GEOCODING_URL", OPEN_METEO_GEOCODING),
        cache_ttl=_int("WEATHER_CACHE_TTL", 12 * 3600, minimum=1),
        stale_grace=_int("WEATHER_STALE_GRACE", 24 * 3600, minimum=0),
        not_found_ttl=_int("WEATHER_NOT_FOUND_TTL", 3600, minimum=0),
        outage_cooldown=_int("WEATHER_OUTAGE_COOLDOWN", 15, minimum=1, maximum=3600),
        local_cache_ttl=_int("WEATHER_LOCAL_CACHE_TTL", 10, minimum=0, maximum=3600),
        rate_limit=_int("WEATHER_RATE_LIMIT", 60, minimum=0),
        rate_window=_int("WEATHER_RATE_WINDOW", 60, minimum=1),
        upstream_timeout=_seconds("WEATHER_UPSTREAM_TIMEOUT", 5.0, minimum=0.05, maximum=60),
        upstream_retries=_int("WEATHER_UPSTREAM_RETRIES", 2, minimum=0, maximum=5),
        retry_backoff=_seconds("WEATHER_RETRY_BACKOFF", 0.25, minimum=0, maximum=10),
    )


@lru_cache(maxsize=1)
def get_weather_settings() -> WeatherSettings:
    """The process-wide weather settings; `reset_weather_settings()` re-reads the environment."""
    return load_weather_settings()


def reset_weather_settings() -> None:
    get_weather_settings.cache_clear()
