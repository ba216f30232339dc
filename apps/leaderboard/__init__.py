"""Real-time leaderboard (brief #40): games, scores, ranks, periods, reports and a live top."""

from litestar import Router

from apps.leaderboard.routes import (
    BoardController,
    GameController,
    ReportController,
    ScoreController,
    live_top,
)

router = Router(
    path="/leaderboard",
    route_handlers=[GameController, ScoreController, BoardController, ReportController, live_top],
    tags=["leaderboard"],
)

__all__ = ["router"]
