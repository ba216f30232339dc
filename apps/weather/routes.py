"""GET /weather/{location}: current conditions and a daily forecast, cached in Redis."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import Provide
from litestar.params import Parameter

from apps.kernel.cache import get_redis
from apps.kernel.clients import client_ip
from apps.weather.places import MAX_LOCATION_LENGTH, parse_place
from apps.weather.schemas import UnitSystem, WeatherReport
from apps.weather.services import MAX_DAYS, Served, WeatherService
from apps.weather.settings import get_weather_settings

LOCATION_HELP = (
    "A place name, optionally with region or country after commas (`London`, `Paris,FR`, "
    f"`Springfield,Illinois`), or `latitude,longitude`. At most {MAX_LOCATION_LENGTH} "
    "characters: letters, digits, spaces and , . ' - ( )."
)


async def provide_weather() -> WeatherService:
    return WeatherService(get_redis(), get_weather_settings())


def client_key(request: Request[Any, Any, Any]) -> str:
    """Who the rate limit counts: the signed-in user, else the client address.

    X-Forwarded-For is believed only from FORWARDED_ALLOW_IPS (the load balancer).
    """
    user = request.scope.get("user")
    if user is not None:
        return f"user:{user.id}"
    return f"ip:{client_ip(request)}"


def cache_headers(served: Served, stale_grace: int) -> dict[str, str]:
    """`Age` since the provider answered; fresh answers may be reused as long as ours is."""
    if served.report.stale:
        control = "no-cache"
    else:
        control = f"public, max-age={served.fresh_for}"
        if stale_grace:
            control += f", stale-if-error={stale_grace}"
    return {"Cache-Control": control, "Age": str(served.age)}


class WeatherController(Controller):
    """Weather for any place (brief #3), from Visual Crossing or Open-Meteo."""

    path = "/"
    dependencies = {"weather": Provide(provide_weather)}

    @get("/{location:str}", operation_id="GetWeather")
    async def get_weather(
        self,
        request: Request[Any, Any, Any],
        weather: WeatherService,
        location: str = Parameter(description=LOCATION_HELP),
        units: UnitSystem = Parameter(
            default="metric", description="`metric` (°C, km/h, mm) or `us` (°F, mph, in)"
        ),
        days: int = Parameter(
            default=7, ge=1, le=MAX_DAYS, description="Days of forecast, starting today"
        ),
    ) -> Response[WeatherReport]:
        """Current conditions and a daily forecast in one schema, whichever provider answers.

        `cached` tells whether the answer came from the cache; `stale` that it is past its
        freshness but the provider is failing (stale-if-error). Unknown places are 404,
        provider outages 503 with Retry-After, too many requests 429 with Retry-After.
        """
        place = parse_place(location)
        await weather.admit(client_key(request))
        served = await weather.weather(place, units, days)
        return Response(served.report, headers=cache_headers(served, weather.settings.stale_grace))
