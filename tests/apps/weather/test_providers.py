"""The real provider clients against the fake upstream: formats, units, errors, retries."""

from __future__ import annotations

import time
from datetime import date, timedelta

import httpx
import pytest

from apps.weather.places import parse_place
from apps.weather.providers import (
    OpenMeteo,
    PlaceNotFound,
    ProviderUnavailable,
    VisualCrossing,
    WeatherProvider,
    open_upstream,
    provider_for,
    retry_after_seconds,
)
from apps.weather.settings import get_weather_settings
from tests.apps.weather.fake_upstream import API_KEY, FakeUpstream


async def _forecast(location: str, units: str = "metric", days: int = 3):
    settings = get_weather_settings()
    async with open_upstream(settings) as http:
        provider: WeatherProvider = provider_for(settings, http)
        return await provider.forecast(parse_place(location), units, days)  # type: ignore[arg-type]


async def test_the_provider_follows_the_api_key(provider: str) -> None:
    settings = get_weather_settings()
    async with open_upstream(settings) as http:
        chosen = provider_for(settings, http)
    expected = VisualCrossing if provider == "visualcrossing" else OpenMeteo
    assert isinstance(chosen, expected)


async def test_a_forecast_in_our_schema(provider: str) -> None:
    report = await _forecast("London", days=3)
    assert report.provider == provider
    assert report.query == "london"
    assert report.location.name == "London, England, United Kingdom"
    assert report.location.latitude == pytest.approx(51.5085, abs=1e-3)
    assert report.location.timezone == "Europe/London"
    assert report.units.temperature == "°C" and report.units.wind_speed == "km/h"
    current = report.current
    assert (current.temperature, current.feels_like, current.wind_speed) == (12.5, 11.0, 20.5)
    assert current.wind_direction == 250 and current.precipitation == 0.4
    assert current.kind == "partly-cloudy" and current.conditions
    assert current.time.tzinfo is not None
    assert len(report.days) == 3
    first, last = report.days[0], report.days[-1]
    assert last.date - first.date == timedelta(days=2)
    assert abs(first.date - date.today()) <= timedelta(days=1)
    assert (first.temp_max, first.temp_min, first.kind) == (20.0, 10.0, "clear")
    assert last.precipitation_probability == 20
    assert last.kind in {"rain", "showers"}
    assert first.sunrise is not None and first.sunset is not None
    assert first.sunrise.date() == first.date and first.sunrise < first.sunset
    assert first.sunrise.utcoffset() == first.sunset.utcoffset()


async def test_us_units_are_asked_for_and_labelled(provider: str, fake: FakeUpstream) -> None:
    report = await _forecast("Tokyo", units="us", days=1)
    assert report.units.temperature == "°F" and report.units.precipitation == "in"
    assert report.current.temperature == 54.5  # 12.5 °C
    assert report.current.wind_speed == pytest.approx(12.7, abs=0.1)  # 20.5 km/h
    assert report.location.timezone == "Asia/Tokyo"
    assert report.current.time.utcoffset() == timedelta(hours=9)
    path, params = fake.requests[-1]
    if provider == "visualcrossing":
        assert path.endswith("/timeline/tokyo")
        assert params["unitGroup"] == "us" and params["key"] == API_KEY
        assert params["include"] == "current,days" and params["contentType"] == "json"
    else:
        assert path == "/v1/forecast"
        assert params["temperature_unit"] == "fahrenheit" and params["wind_speed_unit"] == "mph"
        assert params["precipitation_unit"] == "inch" and params["forecast_days"] == "1"
        assert params["timezone"] == "auto"


async def test_days_asked_are_days_answered(provider: str) -> None:
    assert len((await _forecast("Paris,FR", days=15)).days) == 15
    assert len((await _forecast("Paris,FR", days=1)).days) == 1


async def test_a_qualifier_picks_among_namesakes(provider: str) -> None:
    texas = await _forecast("Paris, Texas", days=1)
    france = await _forecast("paris,fr", days=1)
    assert texas.location.timezone == "America/Chicago"
    assert france.location.timezone == "Europe/Paris"
    assert texas.location.latitude != france.location.latitude


async def test_an_unknown_place_is_not_found_without_retries(provider: str, fake) -> None:
    with pytest.raises(PlaceNotFound, match="atlantis"):
        await _forecast("Atlantis")
    assert fake.count() == 1
    assert fake.count("forecast") == 0


async def test_open_meteo_qualifier_matching_no_namesake_is_not_found(fake) -> None:
    with pytest.raises(PlaceNotFound):
        await _forecast("Paris, Narnia")
    assert (fake.count("search"), fake.count("forecast")) == (1, 0)


async def test_coordinates_skip_geocoding(fake: FakeUpstream) -> None:
    report = await _forecast("35.6895,139.6917", days=2)
    assert fake.count("search") == 0 and fake.count("forecast") == 1
    assert report.location.name == "35.6895,139.6917"
    assert report.location.timezone == "Asia/Tokyo"


async def test_a_server_error_is_retried_then_answered(provider: str, fake) -> None:
    endpoint = "timeline" if provider == "visualcrossing" else "forecast"
    fake.fail(endpoint, status=502, times=1)
    report = await _forecast("London")
    assert report.current.temperature == 12.5
    assert fake.count(endpoint) == 2


async def test_persistent_server_errors_give_up_after_the_retries(provider: str, fake) -> None:
    endpoint = "timeline" if provider == "visualcrossing" else "search"
    fake.fail(endpoint, status=500)
    with pytest.raises(ProviderUnavailable, match="HTTP 500") as caught:
        await _forecast("London")
    assert fake.count(endpoint) == 1 + get_weather_settings().upstream_retries
    assert caught.value.retry_after >= 1


async def test_a_429_is_passed_on_with_its_retry_after_and_not_retried(provider: str, fake) -> None:
    endpoint = "timeline" if provider == "visualcrossing" else "search"
    fake.fail(endpoint, status=429, retry_after="120")
    with pytest.raises(ProviderUnavailable, match="limiting") as caught:
        await _forecast("London")
    assert caught.value.retry_after == 120
    assert fake.count(endpoint) == 1


async def test_a_hanging_provider_times_out_within_the_budget(provider: str, fake) -> None:
    endpoint = "timeline" if provider == "visualcrossing" else "search"
    fake.fail(endpoint, "hang")
    settings = get_weather_settings()
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match=r"did not answer within 1 s"):
        await _forecast("London")
    assert time.monotonic() - started < settings.fetch_budget + 0.5
    assert fake.count(endpoint) == 1 + settings.upstream_retries


async def test_a_document_in_another_format_is_unavailable_not_a_crash(provider, fake) -> None:
    fake.fail("timeline" if provider == "visualcrossing" else "forecast", "garbage")
    with pytest.raises(ProviderUnavailable, match="cannot read"):
        await _forecast("London")


async def test_a_refused_key_is_unavailable_not_not_found(configure, fake) -> None:
    configure(VISUAL_CROSSING_API_KEY="wrong-key")
    with pytest.raises(ProviderUnavailable, match="credentials") as caught:
        await _forecast("London")
    assert caught.value.retry_after == 300
    assert fake.count("timeline") == 1


async def test_an_unreachable_provider_is_unavailable(configure, fake) -> None:
    from tests.support.servers import free_port

    configure(OPEN_METEO_GEOCODING_URL=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderUnavailable, match="could not be reached"):
        await _forecast("London")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    def response(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value})

    assert retry_after_seconds(response("30"), 5) == 30
    assert retry_after_seconds(response("Wed, 21 Oct 2015 07:28:00 GMT"), 5) == 1
    assert retry_after_seconds(response("soon"), 5) == 5
    assert retry_after_seconds(httpx.Response(503), 7) == 7
