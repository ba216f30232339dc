"""Restaurant reviews (brief #12): reviews with VADER sentiment and a Redis leaderboard."""

from litestar import Router

from apps.reviews.routes import RestaurantController, show_leaderboard

router = Router(
    path="/reviews", route_handlers=[RestaurantController, show_leaderboard], tags=["reviews"]
)

__all__ = ["router"]
