"""The weather answer, in one schema of our own whatever provider produced it.

Temperatures, wind speeds and precipitation are in the units named by `units`
(`metric`: °C, km/h, mm; `us`: °F, mph, in). Times carry the location's UTC offset.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

UnitSystem = Literal["metric", "us"]
ProviderName = Literal["visualcrossing", "open-meteo"]
WeatherKind = Literal[
    "clear",
    "partly-cloudy",
    "cloudy",
    "fog",
    "wind",
    "drizzle",
    "rain",
    "showers",
    "sleet",
    "snow",
    "thunderstorm",
    "unknown",
]
KindField = Annotated[
    WeatherKind,
    msgspec.Meta(description="A provider-independent class of the weather, for icons and logic"),
]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]


class Units(msgspec.Struct, kw_only=True):
    system: UnitSystem
    temperature: str
    wind_speed: str
    precipitation: str


UNITS: dict[str, Units] = {
    "metric": Units(system="metric", temperature="°C", wind_speed="km/h", precipitation="mm"),
    "us": Units(system="us", temperature="°F", wind_speed="mph", precipitation="in"),
}


class ResolvedLocation(msgspec.Struct, kw_only=True):
    """Where the provider understood the query to be."""

    name: str
    latitude: float
    longitude: float
    timezone: str
    """IANA time zone name of the location (e.g. `Europe/London`)."""


class CurrentConditions(msgspec.Struct, kw_only=True):
    time: datetime
    """When the observation or model step was taken, in the location's local offset."""
    temperature: float | None
    feels_like: float | None
    humidity: Percent | None
    wind_speed: float | None
    wind_direction: Annotated[float, msgspec.Meta(ge=0, le=360)] | None
    """Degrees the wind comes from (0 = north, 90 = east)."""
    precipitation: float | None
    conditions: str
    """Human-readable summary from the provider (e.g. `Partially cloudy`)."""
    kind: KindField


class DailyForecast(msgspec.Struct, kw_only=True):
    date: date
    """The local calendar day at the location."""
    temp_max: float | None
    temp_min: float | None
    precipitation: float | None
    """Total over the day."""
    precipitation_probability: Percent | None
    conditions: str
    kind: KindField
    sunrise: datetime | None
    """Null where the sun does not rise that day (polar night)."""
    sunset: datetime | None


class WeatherReport(msgspec.Struct, kw_only=True):
    """Current conditions and a daily forecast for one location."""

    query: str
    """The location as asked, normalised (the cache key uses this spelling)."""
    location: ResolvedLocation
    units: Units
    current: CurrentConditions
    days: list[DailyForecast]
    provider: ProviderName
    fetched_at: datetime
    """When this answer came from the provider (UTC); `Age` counts from here."""
    cached: bool = False
    """True when the answer was served from the cache rather than fetched for this request."""
    stale: bool = False
    """True when the cached answer is past its freshness but the provider is failing."""
