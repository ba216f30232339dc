"""The weather answer, in one schema of our own whatever provider produced it.

Temperatures, wind speeds and precipitation are in the units named by `units`
(`metric`: °C, km/h, mm; `us`: °F, mph, in). Times carry the location's UTC offset.
"""

from __future__ import annotations

from datetime import date as date_
from datetime import datetime
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


class WeatherUnits(msgspec.Struct, kw_only=True):
    system: UnitSystem
    temperature: str
    wind_speed: str
    precipitation: str


UNITS: dict[str, WeatherUnits] = {
    "metric": WeatherUnits(
        system="metric", temperature="°C", wind_speed="km/h", precipitation="mm"
    ),
    "us": WeatherUnits(system="us", temperature="°F", wind_speed="mph", precipitation="in"),
}


class ResolvedLocation(msgspec.Struct, kw_only=True):
    """Where the provider understood the query to be."""

    name: str
    latitude: float
    longitude: float
    timezone: Annotated[str, msgspec.Meta(description="IANA time zone, e.g. `Europe/London`")]


class CurrentConditions(msgspec.Struct, kw_only=True):
    time: Annotated[
        datetime, msgspec.Meta(description="When observed or modelled, in the local offset")
    ]
    temperature: float | None
    feels_like: float | None
    humidity: Percent | None
    wind_speed: float | None
    wind_direction: (
        Annotated[
            float,
            msgspec.Meta(ge=0, le=360, description="Degrees it blows from: 0 north, 90 east"),
        ]
        | None
    )
    precipitation: float | None
    conditions: Annotated[str, msgspec.Meta(description="Provider's summary, e.g. `Overcast`")]
    kind: KindField


class DailyForecast(msgspec.Struct, kw_only=True):
    date: Annotated[date_, msgspec.Meta(description="The local calendar day at the location")]
    temp_max: float | None
    temp_min: float | None
    precipitation: Annotated[float, msgspec.Meta(description="Total over the day")] | None
    precipitation_probability: Percent | None
    conditions: str
    kind: KindField
    sunrise: (
        Annotated[datetime, msgspec.Meta(description="Null where the sun does not rise that day")]
        | None
    )
    sunset: datetime | None


class WeatherReport(msgspec.Struct, kw_only=True):
    """Current conditions and a daily forecast for one location."""

    query: Annotated[
        str, msgspec.Meta(description="The location as asked, normalised (as in the cache key)")
    ]
    location: ResolvedLocation
    units: WeatherUnits
    current: CurrentConditions
    days: list[DailyForecast]
    provider: ProviderName
    fetched_at: Annotated[
        datetime, msgspec.Meta(description="When the provider answered (UTC); `Age` counts from it")
    ]
    cached: Annotated[
        bool, msgspec.Meta(description="Served from the cache, not fetched for this request")
    ]
    stale: Annotated[
        bool,
        msgspec.Meta(description="Past its freshness, served because the provider is failing"),
    ]
