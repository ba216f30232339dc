"""Weather settings: provider choice, defaults, and refusals that name the variable."""

from __future__ import annotations

import pytest

from apps.kernel.settings import SettingsError
from apps.weather.settings import load_weather_settings


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "VISUAL_CROSSING_API_KEY",
        "VISUAL_CROSSING_BASE_URL",
        "OPEN_METEO_BASE_URL",
        "OPEN_METEO_GEOCODING_URL",
        "WEATHER_PROVIDER",
        "WEATHER_CACHE_TTL",
        "WEATHER_STALE_GRACE",
        "WEATHER_UPSTREAM_TIMEOUT",
        "WEATHER_UPSTREAM_RETRIES",
        "WEATHER_RETRY_BACKOFF",
        "WEATHER_RATE_LIMIT",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_use_open_meteo_with_a_twelve_hour_cache(bare_env) -> None:
    settings = load_weather_settings()
    assert settings.provider == "open-meteo"
    assert settings.cache_ttl == 12 * 3600
    assert settings.open_meteo_base_url == "https://api.open-meteo.com"
    assert settings.open_meteo_geocoding_url == "https://geocoding-api.open-meteo.com"
    assert settings.visual_crossing_base_url == "https://weather.visualcrossing.com"


def test_a_visual_crossing_key_selects_visual_crossing(bare_env) -> None:
    bare_env.setenv("VISUAL_CROSSING_API_KEY", "abc")
    assert load_weather_settings().provider == "visualcrossing"
    bare_env.setenv("WEATHER_PROVIDER", "open-meteo")
    assert load_weather_settings().provider == "open-meteo"


def test_the_single_flight_lock_outlives_the_slowest_fetch(bare_env) -> None:
    bare_env.setenv("WEATHER_UPSTREAM_TIMEOUT", "2")
    bare_env.setenv("WEATHER_UPSTREAM_RETRIES", "2")
    bare_env.setenv("WEATHER_RETRY_BACKOFF", "0.5")
    settings = load_weather_settings()
    # Open-Meteo: two calls, each up to 3 attempts of 2 s plus 0.5 + 1 s of backoff.
    assert settings.fetch_budget == pytest.approx(2 * (3 * 2 + 1.5))
    assert settings.lock_ttl > settings.fetch_budget


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEATHER_CACHE_TTL", "soon", "WEATHER_CACHE_TTL='soon' is not a whole number"),
        ("WEATHER_CACHE_TTL", "0", "WEATHER_CACHE_TTL=0 must be >= 1"),
        ("WEATHER_UPSTREAM_RETRIES", "9", "WEATHER_UPSTREAM_RETRIES=9 must be between 0 and 5"),
        ("WEATHER_UPSTREAM_TIMEOUT", "0", "WEATHER_UPSTREAM_TIMEOUT=0.0 must be between"),
        ("OPEN_METEO_BASE_URL", "ftp://x", "OPEN_METEO_BASE_URL='ftp://x' must be an http(s) URL"),
        ("VISUAL_CROSSING_BASE_URL", "http://x/?a=1", "must not carry a query"),
        ("WEATHER_PROVIDER", "metoffice", "WEATHER_PROVIDER='metoffice' is not one of"),
        ("WEATHER_PROVIDER", "visualcrossing", "needs VISUAL_CROSSING_API_KEY"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(bare_env, name, value, message) -> None:
    bare_env.setenv(name, value)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_weather_settings()
