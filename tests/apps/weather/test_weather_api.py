"""GET /weather/{location} through HTTP, on both backends, against the fake upstream."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from apps.weather.settings import get_weather_settings
from tests.apps.weather.fake_upstream import API_KEY, FakeUpstream

pytestmark = pytest.mark.usefixtures("clean_cache")


def _headers() -> dict[str, str]:
    """A client address of its own, so the rate limit of one test never reaches another."""
    return {"X-Forwarded-For": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"}


def _get(client, location: str, headers: dict[str, str] | None = None, **params):
    return client.get(f"/weather/{location}", params=params, headers=headers or _headers())


def _problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if field is not None:
        assert body["field"] == field, body
    return body


def _redis_ttl(key: str) -> int:
    from apps.kernel.cache import create_redis

    async def ttl() -> int:
        redis = create_redis()
        try:
            return await redis.ttl(key)
        finally:
            await redis.aclose()

    return asyncio.run(ttl())


def test_first_answer_is_fetched_the_next_cached(client, provider, fake: FakeUpstream) -> None:
    first = _get(client, "London", days=3)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["cached"], body["stale"], body["provider"]) == (False, False, provider)
    assert body["location"]["name"] == "London, England, United Kingdom"
    assert len(body["days"]) == 3 and body["current"]["temperature"] == 12.5
    assert first.headers["age"] == "0"
    assert first.headers["cache-control"] == "public, max-age=43200, stale-if-error=86400"
    calls = fake.count()

    second = _get(client, "London", days=3)
    assert second.status_code == 200
    assert second.json()["cached"] is True and second.json()["stale"] is False
    assert second.json()["fetched_at"] == body["fetched_at"]
    assert int(second.headers["age"]) <= 2
    assert second.headers["cache-control"].startswith("public, max-age=")
    assert fake.count() == calls


def test_the_cache_key_is_provider_place_units_days_with_the_ttl(client, provider, fake) -> None:
    assert _get(client, "  PARIS , fr", units="us", days=2).status_code == 200
    ttl = _redis_ttl(f"weather:{provider}:paris,fr:us:2")
    assert 43200 - 5 <= ttl <= 43200
    stale_ttl = _redis_ttl(f"weather-stale:{provider}:paris,fr:us:2")
    assert 43200 + 86400 - 5 <= stale_ttl <= 43200 + 86400


def test_spellings_of_one_place_share_the_entry(client, fake: FakeUpstream) -> None:
    assert _get(client, "Paris,FR").json()["cached"] is False
    calls = fake.count()
    for spelling in ("paris,fr", "  PARIS , FR  ", "Paris,  fr"):
        assert _get(client, spelling).json()["cached"] is True
    assert fake.count() == calls


def test_units_and_days_are_separate_entries(client, fake: FakeUpstream) -> None:
    metric = _get(client, "Tokyo", units="metric").json()
    us = _get(client, "Tokyo", units="us").json()
    week = _get(client, "Tokyo", units="us", days=2).json()
    assert [metric["cached"], us["cached"], week["cached"]] == [False, False, False]
    assert metric["units"]["temperature"] == "°C" and us["units"]["temperature"] == "°F"
    assert us["current"]["temperature"] == 54.5 and len(week["days"]) == 2
    assert fake.count("forecast") == 3
    assert fake.count("search") == 1  # the place was geocoded once and remembered


def test_an_unknown_place_is_a_404_remembered(client, provider, fake: FakeUpstream) -> None:
    body = _problem(_get(client, "Atlantis"), 404, "location")
    assert "atlantis" in body["detail"]
    calls = fake.count()
    _problem(_get(client, "atlantis"), 404, "location")
    assert fake.count() == calls  # not asked again while WEATHER_NOT_FOUND_TTL lasts


@pytest.mark.parametrize(("failure", "status"), [("status", 500), ("status", 503), ("hang", 0)])
def test_a_failing_provider_is_a_503_with_retry_after(client, fake, failure, status) -> None:
    fake.fail("search", failure, status=status or 500)
    body = _problem(_get(client, "London"), 503)
    assert "provider is unavailable" in body["detail"]
    response = _get(client, "London")
    assert response.status_code == 503
    assert 1 <= int(response.headers["retry-after"]) <= 5  # WEATHER_OUTAGE_COOLDOWN
    assert fake.count("search") == 2  # first request and its one retry; then left alone


def test_a_rate_limited_provider_passes_its_retry_after_on(client, configure, fake) -> None:
    configure(VISUAL_CROSSING_API_KEY=API_KEY)
    fake.fail("timeline", status=429, retry_after="90")
    response = _get(client, "London")
    _problem(response, 503)
    assert 85 <= int(response.headers["retry-after"]) <= 90
    assert fake.count("timeline") == 1


@pytest.mark.parametrize(
    ("location", "params", "field"),
    [
        ("%3Cscript%3E", {}, "location"),
        ("x" * 101, {}, "location"),
        ("%20%20", {}, "location"),
        ("91,0", {}, "location"),
        ("London", {"days": "0"}, "days"),
        ("London", {"days": "16"}, "days"),
        ("London", {"days": "seven"}, "days"),
        ("London", {"units": "kelvin"}, "units"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, fake, location, params, field) -> None:
    _problem(_get(client, location, **params), 422, field)
    assert fake.count() == 0


def test_each_client_has_a_sliding_window_limit(client, configure, fake) -> None:
    configure(WEATHER_RATE_LIMIT="3", WEATHER_RATE_WINDOW="60")
    mine, theirs = _headers(), _headers()
    assert [_get(client, "London", mine).status_code for _ in range(3)] == [200] * 3
    limited = _get(client, "London", mine)
    body = _problem(limited, 429)
    assert "At most 3 weather requests per 60 s" in body["detail"]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert _get(client, "London", theirs).status_code == 200


def test_the_openapi_schema_documents_our_weather_schema(client) -> None:
    schema = client.get("/schema/openapi.json").json()
    operation = schema["paths"]["/weather/{location}"]["get"]
    assert operation["operationId"] == "GetWeather"
    report = schema["components"]["schemas"]["WeatherReport"]
    for name in ("location", "current", "days", "provider", "fetched_at", "cached", "stale"):
        assert name in report["properties"]
    assert get_weather_settings().provider == "open-meteo"
