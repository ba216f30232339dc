"""Weather API (brief #3): current conditions and a daily forecast for any place, cached."""

from litestar import Router

from apps.weather.routes import WeatherController
from apps.weather.settings import get_weather_settings

# Read (and check) the weather settings when the app is mounted: a bad value stops the
# server at start with a message naming the variable, not at the first request.
get_weather_settings()

router = Router(path="/weather", route_handlers=[WeatherController], tags=["weather"])

__all__ = ["router"]
