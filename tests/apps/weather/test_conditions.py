"""Provider vocabularies mapped to ours: weather kinds, WMO codes, local times and zones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.weather.providers import describe_wmo, kind_from_icon, local_time, local_zone


@pytest.mark.parametrize(
    ("icon", "kind"),
    [
        ("clear-day", "clear"),
        ("clear-night", "clear"),
        ("partly-cloudy-night", "partly-cloudy"),
        ("cloudy", "cloudy"),
        ("fog", "fog"),
        ("wind", "wind"),
        ("rain", "rain"),
        ("showers-day", "showers"),
        ("snow-showers-night", "snow"),
        ("rain-snow-showers-day", "sleet"),
        ("hail", "sleet"),
        ("thunder-showers-day", "thunderstorm"),
        ("thunder-rain", "thunderstorm"),
        ("tornado", "unknown"),
        (None, "unknown"),
    ],
)
def test_visual_crossing_icons_become_kinds(icon: str | None, kind: str) -> None:
    assert kind_from_icon(icon) == kind


@pytest.mark.parametrize(
    ("code", "kind", "text"),
    [
        (0, "clear", "Clear sky"),
        (3, "cloudy", "Overcast"),
        (45, "fog", "Fog"),
        (55, "drizzle", "Dense drizzle"),
        (66, "sleet", "Light freezing rain"),
        (75, "snow", "Heavy snow fall"),
        (81, "showers", "Moderate rain showers"),
        (99, "thunderstorm", "Thunderstorm with heavy hail"),
        (42, "unknown", "Weather code 42"),
        (None, "unknown", ""),
    ],
)
def test_wmo_codes_become_kinds_and_words(code: int | None, kind: str, text: str) -> None:
    assert describe_wmo(code) == (text, kind)


def test_an_unknown_zone_falls_back_to_the_providers_offset() -> None:
    zone = local_zone("Mars/Olympus_Mons", 5.5 * 3600)
    moment = local_time("2026-03-01T06:30", zone)
    assert moment is not None and moment.utcoffset() == timedelta(hours=5, minutes=30)


def test_local_times_follow_daylight_saving_in_the_zone() -> None:
    zone = local_zone("Europe/Berlin", 3600)
    winter, summer = local_time("2026-01-10T08:00", zone), local_time("2026-07-10T05:00", zone)
    assert winter is not None and winter.utcoffset() == timedelta(hours=1)
    assert summer is not None and summer.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize("text", [None, "", "not a time"])
def test_missing_or_unreadable_times_are_null(text: str | None) -> None:
    assert local_time(text, local_zone("UTC", 0)) is None
