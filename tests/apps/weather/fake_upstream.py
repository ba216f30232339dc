"""A stand-in for Visual Crossing and Open-Meteo on 127.0.0.1, speaking their formats.

Formats follow the providers' documentation:

- Visual Crossing Timeline API: `GET /VisualCrossingWebServices/rest/services/timeline/{loc}`
  with `key`, `unitGroup` (us|metric|uk|base), `include`, `contentType=json`. A location it
  cannot resolve is HTTP 400 with a plain-text body; a bad key is 401; 429 over the limits.
- Open-Meteo geocoding: `GET /v1/search?name=&count=&language=&format=json`; no match leaves
  out the `results` key. Forecast: `GET /v1/forecast?latitude=&longitude=&current=&daily=
  &timezone=&forecast_days=` with optional unit parameters; bad input is HTTP 400 with
  `{"error": true, "reason": "..."}`.

Tests can make it fail (`fail`), slow it down (`delay`) and count what it was asked (`calls`).
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

API_KEY = "test-visual-crossing-key"
TIMELINE = "/VisualCrossingWebServices/rest/services/timeline/"
DAILY = {
    "weather_code",
    "temperature_2m_max",
    "temperature_2m_min",
    "precipitation_sum",
    "precipitation_probability_max",
    "sunrise",
    "sunset",
    "wind_speed_10m_max",
}
CURRENT = {
    "temperature_2m",
    "apparent_temperature",
    "relative_humidity_2m",
    "precipitation",
    "weather_code",
    "wind_speed_10m",
    "wind_direction_10m",
    "is_day",
    "rain",
}


@dataclass(frozen=True)
class FakePlace:
    name: str
    latitude: float
    longitude: float
    timezone: str
    utc_offset: int
    country: str
    country_code: str
    admin1: str


PLACES = [
    FakePlace("London", 51.50853, -0.12574, "Europe/London", 0, "United Kingdom", "GB", "England"),
    FakePlace("Paris", 48.85341, 2.3488, "Europe/Paris", 3600, "France", "FR", "Île-de-France"),
    FakePlace(
        "Paris", 33.66094, -95.55551, "America/Chicago", -21600, "United States", "US", "Texas"
    ),
    FakePlace("Tokyo", 35.6895, 139.69171, "Asia/Tokyo", 32400, "Japan", "JP", "Tokyo"),
    FakePlace(
        "São Paulo", -23.5475, -46.63611, "America/Sao_Paulo", -10800, "Brazil", "BR", "São Paulo"
    ),
]


@dataclass
class Failure:
    mode: str
    """`status`, `hang` or `garbage`."""
    status: int = 500
    retry_after: str | None = None
    times: int | None = None
    """How many more requests fail; None until cleared."""


@dataclass
class FakeUpstream:
    url: str = ""
    delay: float = 0.0
    hang_seconds: float = 3.0
    calls: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    failures: dict[str, Failure] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.delay = 0.0
            self.calls.clear()
            self.requests.clear()
            self.failures.clear()

    def fail(
        self,
        endpoint: str,
        mode: str = "status",
        *,
        status: int = 500,
        retry_after: str | None = None,
        times: int | None = None,
    ) -> None:
        """Make `endpoint` (timeline, search, forecast) fail the next `times` requests."""
        with self.lock:
            self.failures[endpoint] = Failure(mode, status, retry_after, times)

    def heal(self) -> None:
        with self.lock:
            self.failures.clear()

    def count(self, endpoint: str | None = None) -> int:
        with self.lock:
            return sum(self.calls.values()) if endpoint is None else self.calls.get(endpoint, 0)

    def _take_failure(self, endpoint: str) -> Failure | None:
        with self.lock:
            self.calls[endpoint] = self.calls.get(endpoint, 0) + 1
            failure = self.failures.get(endpoint)
            if failure is None:
                return None
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    del self.failures[endpoint]
            return failure


# ---- documents ------------------------------------------------------------------------------


def _find(name: str, qualifier: str | None = None) -> list[FakePlace]:
    found = [p for p in PLACES if p.name.casefold() == name.strip().casefold()]
    if qualifier:
        q = qualifier.strip().casefold()
        found = [
            p
            for p in found
            if q in {p.country.casefold(), p.country_code.casefold(), p.admin1.casefold()}
        ]
    return found


def _temperature(celsius: float, fahrenheit: bool) -> float:
    return round(celsius * 9 / 5 + 32, 1) if fahrenheit else celsius


def _speed(kmh: float, mph: bool) -> float:
    return round(kmh / 1.609344, 1) if mph else kmh


def _precip(mm: float, inch: bool) -> float:
    return round(mm / 25.4, 2) if inch else mm


def _local_today(offset: int) -> date:
    return (datetime.now(UTC) + timedelta(seconds=offset)).date()


def timeline(place: FakePlace | None, location: str, unit_group: str) -> dict[str, Any]:
    us = unit_group == "us"
    offset = place.utc_offset if place else 0
    today = _local_today(offset)
    now = int(time.time())
    days = []
    for n in range(15):
        day = today + timedelta(days=n)
        midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) - offset
        days.append(
            {
                "datetime": day.isoformat(),
                "datetimeEpoch": midnight,
                "tempmax": _temperature(20.0 + n, us),
                "tempmin": _temperature(10.0 + n, us),
                "temp": _temperature(15.0 + n, us),
                "feelslike": _temperature(14.0 + n, us),
                "humidity": 71.3,
                "precip": _precip(1.5 * n, us),
                "precipprob": min(100, 10 * n),
                "preciptype": ["rain"] if n else None,
                "windspeed": _speed(18.0, us),
                "winddir": 225.0,
                "conditions": "Rain, Partially cloudy" if n else "Clear",
                "description": "Partly cloudy throughout the day.",
                "icon": "showers-day" if n else "clear-day",
                "sunrise": "07:12:34",
                "sunriseEpoch": midnight + 7 * 3600 + 754,
                "sunset": "16:45:01",
                "sunsetEpoch": midnight + 16 * 3600 + 2701,
                "moonphase": 0.5,
                "source": "fcst",
            }
        )
    resolved = f"{place.name}, {place.admin1}, {place.country}" if place else location
    latitude, longitude = (
        (place.latitude, place.longitude) if place else (float(x) for x in location.split(","))
    )
    return {
        "queryCost": 1,
        "latitude": latitude,
        "longitude": longitude,
        "resolvedAddress": resolved,
        "address": location,
        "timezone": place.timezone if place else "UTC",
        "tzoffset": offset / 3600,
        "description": "Similar temperatures continuing with a chance of rain.",
        "days": days,
        "alerts": [],
        "stations": {},
        "currentConditions": {
            "datetime": datetime.fromtimestamp(now, UTC).strftime("%H:%M:%S"),
            "datetimeEpoch": now,
            "temp": _temperature(12.5, us),
            "feelslike": _temperature(11.0, us),
            "humidity": 82.4,
            "dew": 9.6,
            "precip": _precip(0.4, us),
            "precipprob": 30,
            "windspeed": _speed(20.5, us),
            "winddir": 250.0,
            "pressure": 1012.0,
            "visibility": 10.0,
            "cloudcover": 88.0,
            "conditions": "Partially cloudy",
            "icon": "partly-cloudy-day",
            "source": "obs",
        },
    }


def geocoding(name: str, count: int) -> dict[str, Any]:
    found = _find(name)[:count]
    body: dict[str, Any] = {"generationtime_ms": 0.42}
    if found:
        body["results"] = [
            {
                "id": 1000 + i,
                "name": p.name,
                "latitude": p.latitude,
                "longitude": p.longitude,
                "elevation": 30.0,
                "feature_code": "PPLC",
                "country_code": p.country_code,
                "admin1": p.admin1,
                "timezone": p.timezone,
                "population": 1_000_000,
                "country": p.country,
            }
            for i, p in enumerate(found)
        ]
    return body


def forecast(params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    try:
        latitude, longitude = float(params["latitude"]), float(params["longitude"])
    except (KeyError, ValueError):
        return 400, {"error": True, "reason": "Parameter 'latitude' and 'longitude' required"}
    if not -90 <= latitude <= 90:
        return 400, {
            "error": True,
            "reason": f"Latitude must be in range of -90 to 90°. Given: {latitude}.",
        }
    days = int(params.get("forecast_days", "7"))
    if not 0 <= days <= 16:
        return 400, {"error": True, "reason": "Forecast days is invalid. Allowed range 0 to 16."}
    for name in params.get("daily", "").split(","):
        if name and name not in DAILY:
            return 400, {
                "error": True,
                "reason": f"Cannot initialize ForecastVariableDaily from invalid value {name}.",
            }
    for name in params.get("current", "").split(","):
        if name and name not in CURRENT:
            return 400, {
                "error": True,
                "reason": f"Cannot initialize ForecastVariable from invalid String value {name}.",
            }
    fahrenheit = params.get("temperature_unit") == "fahrenheit"
    mph = params.get("wind_speed_unit") == "mph"
    inch = params.get("precipitation_unit") == "inch"
    place = min(PLACES, key=lambda p: math.hypot(p.latitude - latitude, p.longitude - longitude))
    near = math.hypot(place.latitude - latitude, place.longitude - longitude) < 0.5
    zone, offset = (place.timezone, place.utc_offset) if near else ("GMT", 0)
    today = _local_today(offset)
    dates = [(today + timedelta(days=n)).isoformat() for n in range(days)]
    now_local = datetime.now(UTC) + timedelta(seconds=offset)
    now_local = now_local.replace(minute=now_local.minute // 15 * 15, second=0, microsecond=0)
    return 200, {
        "latitude": round(latitude, 2),
        "longitude": round(longitude, 2),
        "generationtime_ms": 0.1,
        "utc_offset_seconds": offset,
        "timezone": zone,
        "timezone_abbreviation": "X",
        "elevation": 30.0,
        "current_units": {"time": "iso8601", "temperature_2m": "°F" if fahrenheit else "°C"},
        "current": {
            "time": now_local.strftime("%Y-%m-%dT%H:%M"),
            "interval": 900,
            "temperature_2m": _temperature(12.5, fahrenheit),
            "apparent_temperature": _temperature(11.0, fahrenheit),
            "relative_humidity_2m": 82,
            "precipitation": _precip(0.4, inch),
            "weather_code": 2,
            "wind_speed_10m": _speed(20.5, mph),
            "wind_direction_10m": 250,
        },
        "daily_units": {"time": "iso8601", "temperature_2m_max": "°F" if fahrenheit else "°C"},
        "daily": {
            "time": dates,
            "weather_code": [0] + [61] * (days - 1),
            "temperature_2m_max": [_temperature(20.0 + n, fahrenheit) for n in range(days)],
            "temperature_2m_min": [_temperature(10.0 + n, fahrenheit) for n in range(days)],
            "precipitation_sum": [_precip(1.5 * n, inch) for n in range(days)],
            "precipitation_probability_max": [min(100, 10 * n) for n in range(days)],
            "sunrise": [f"{d}T07:12" for d in dates],
            "sunset": [f"{d}T16:45" for d in dates],
        },
    }


# ---- server ---------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    fake: FakeUpstream

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(
        self,
        status: int,
        body: bytes | dict[str, Any],
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.path.startswith(TIMELINE):
            endpoint = "timeline"
        elif parts.path == "/v1/search":
            endpoint = "search"
        elif parts.path == "/v1/forecast":
            endpoint = "forecast"
        else:
            self._send(404, b"Not Found", content_type="text/plain")
            return
        with self.fake.lock:
            self.fake.requests.append((parts.path, params))
        failure = self.fake._take_failure(endpoint)
        if self.fake.delay:
            time.sleep(self.fake.delay)
        if failure is not None:
            if failure.mode == "hang":
                time.sleep(self.fake.hang_seconds)
            elif failure.mode == "garbage":
                self._send(200, b"<html>maintenance</html>", content_type="text/html")
                return
            else:
                headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
                self._send(failure.status, b"error", content_type="text/plain", headers=headers)
                return
        getattr(self, f"_{endpoint}")(parts.path, params)

    def _timeline(self, path: str, params: dict[str, str]) -> None:
        if params.get("key") != API_KEY:
            self._send(401, b"No account found with API key", content_type="text/plain")
            return
        unit_group = params.get("unitGroup", "us")
        if unit_group not in {"us", "metric", "uk", "base"} or params.get("contentType") != "json":
            self._send(
                400, b"Bad API Request:Invalid unitGroup or contentType", content_type="text/plain"
            )
            return
        location = unquote(path[len(TIMELINE) :]).split("/", 1)[0]
        name, _, qualifier = location.partition(",")
        try:
            coordinates = [float(x) for x in location.split(",")]
        except ValueError:
            coordinates = []
        found = _find(name, qualifier or None)
        if not found and len(coordinates) != 2:
            self._send(
                400, b"Bad API Request:Invalid location parameter value.", content_type="text/plain"
            )
            return
        self._send(200, timeline(found[0] if found else None, location, unit_group))

    def _search(self, path: str, params: dict[str, str]) -> None:
        name = params.get("name", "")
        if len(name) > 200:
            self._send(400, {"error": True, "reason": "Name too long"})
            return
        self._send(200, geocoding(name, int(params.get("count", "10"))))

    def _forecast(self, path: str, params: dict[str, str]) -> None:
        status, body = forecast(params)
        self._send(status, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a hanging answer closed its socket: expected, not news.
        return


def start_fake_upstream() -> tuple[FakeUpstream, ThreadingHTTPServer]:
    fake = FakeUpstream()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = _Server(("127.0.0.1", 0), handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, name="fake-weather-upstream", daemon=True).start()
    return fake, server
