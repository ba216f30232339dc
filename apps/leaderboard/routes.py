"""The leaderboard API at /leaderboard: games, score submissions, boards, reports, live top."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from litestar import Controller, Request, Response, WebSocket, get, patch, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import Provide
from litestar.exceptions import WebSocketDisconnect
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.errors import DomainError
from apps.kernel.identity import USER_REQUIRED, CurrentUser, requires_admin, requires_user
from apps.kernel.realtime import RealtimeChannelsPlugin
from apps.leaderboard import live, services, submissions
from apps.leaderboard.models import Game
from apps.leaderboard.schemas import (
    Board,
    BoardPeriod,
    GameCreate,
    GameList,
    GameRead,
    GameUpdate,
    PlayerRank,
    ScoreAccepted,
    ScoreSubmit,
    TopPlayersReport,
)
from apps.leaderboard.services import (
    GLOBAL_SLUG,
    BoardReader,
    GameService,
    ReportQuery,
    ReportService,
    board_ref,
    find_game,
)

GAME = Parameter(max_length=60, description="The game's slug")
PERIOD = Parameter(
    default="all",
    description="`all` (all time) or the current UTC `daily`, `weekly` (ISO) or `monthly` board",
)
GLOBAL_DESCRIPTION = (
    "The global board: each player's global score is the **sum of their standings on every "
    "`high_first` game** (their board score there, whatever the game's operator); `low_first` "
    "games do not count, since adding lower-is-better scores would reward doing worse. Ties "
    "rank by who reached the total first. Rows: rank, user id, display name, score."
)


def game_read(game: Game) -> GameRead:
    return GameRead(
        id=game.id,
        slug=game.slug,
        name=game.name,
        sort_order=game.sort_order,  # type: ignore[arg-type]
        operator=game.operator,  # type: ignore[arg-type]
        max_score=game.max_score,
        created_at=game.created_at,
    )


async def provide_games(db_session: AsyncSession) -> GameService:
    return GameService(db_session)


class GameController(Controller):
    """Games: admins create them; anyone lists them."""

    path = "/games"
    dependencies = {"games": Provide(provide_games)}

    @post("/", operation_id="CreateGame", status_code=201, guards=[requires_admin])
    async def create_game(self, data: GameCreate, games: GameService) -> GameRead:
        """Create a game: slug, name, sort order (`high_first`/`low_first`), operator
        (`best`/`latest`/`sum`) and an optional plausible maximum for one score."""
        return game_read(await games.create(data))

    @get("/", operation_id="ListGames")
    async def list_games(self, games: GameService) -> GameList:
        """Every game, by slug."""
        return GameList(items=[game_read(g) for g in await games.list_games()])

    @get("/{game:str}", operation_id="GetGame")
    async def get_game(self, games: GameService, game: str = GAME) -> GameRead:
        """One game."""
        return game_read(await games.get(game))

    @patch("/{game:str}", operation_id="UpdateGame", guards=[requires_admin])
    async def update_game(self, data: GameUpdate, games: GameService, game: str = GAME) -> GameRead:
        """Rename a game; sort order, operator and maximum only while it has no score (409)."""
        return game_read(await games.update(game, data))


class ScoreController(Controller):
    """Score submissions of the signed-in player."""

    path = "/games/{game:str}/scores"

    # The hot path: signed-in is checked by the auth middleware (USER_REQUIRED), not a guard,
    # and a new submission is returned as data (Litestar's lighter data path); only a replay
    # builds a Response, for its 200.
    @post(
        "/",
        operation_id="SubmitScore",
        status_code=201,
        opt=USER_REQUIRED,
        responses={
            200: ResponseSpec(
                data_container=ScoreAccepted,
                description="A replay of an idempotency key: the original submission",
            )
        },
    )
    async def submit_score(
        self,
        request: Request[CurrentUser, Token, Any],
        data: ScoreSubmit,
        game: str = GAME,
    ) -> ScoreAccepted:
        """Record a score: stored in the history, then applied to the game's boards atomically.

        A replay of an `idempotency_key` answers 200 with the original submission and changes
        nothing; a score above the game's `max_score` is 422; too many submissions are 429.
        If Redis is down the score is still stored (`indexed: false`) until the next rebuild.
        """
        snapshot = await find_game(game)
        intake = submissions.intake()
        if not isinstance(intake.notifier, live.LivePublisher):
            intake.notifier = live.publisher(request.app.plugins.get(RealtimeChannelsPlugin))
        user = request.user
        accepted = await submissions.submit_score(
            snapshot, user.id, user.display_name, data.score, data.idempotency_key, intake
        )
        if accepted.replayed:
            # Litestar sends a Response returned by any handler as is; the annotation stays
            # the data type so the schema names it (a union would add an empty variant).
            return cast("ScoreAccepted", Response(accepted, status_code=200))
        return accepted


class BoardController(Controller):
    """Boards read from the Redis index: 503 while it is unreachable, never a 500."""

    path = "/"

    @get("/games/{game:str}/top", operation_id="GameTop")
    async def game_top(
        self,
        game: str = GAME,
        period: BoardPeriod = PERIOD,
        limit: int = Parameter(default=10, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0, le=1_000_000),
    ) -> Board:
        """The best players of a game (all time or the current period), best first."""
        ref = await board_ref(game, period)
        rows, total = await BoardReader(services.index_redis()).top(ref, limit=limit, offset=offset)
        return Board(items=rows, total=total)

    @get("/global/top", operation_id="GlobalTop", description=GLOBAL_DESCRIPTION)
    async def global_top(
        self,
        limit: int = Parameter(default=10, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0, le=1_000_000),
    ) -> Board:
        ref = await board_ref(GLOBAL_SLUG, "all")
        rows, total = await BoardReader(services.index_redis()).top(ref, limit=limit, offset=offset)
        return Board(items=rows, total=total)

    @get("/games/{game:str}/players/{user_id:uuid}/rank", operation_id="PlayerRank")
    async def player_rank(
        self,
        user_id: UUID,
        game: str = GAME,
        period: BoardPeriod = PERIOD,
        around: int = Parameter(default=5, ge=0, le=50, description="Neighbours on each side"),
    ) -> PlayerRank:
        """A player's rank, score and percentile, with the players around them."""
        ref = await board_ref(game, period)
        return await BoardReader(services.index_redis()).rank(ref, user_id, around=around)

    @get("/games/{game:str}/me/rank", operation_id="MyRank", guards=[requires_user])
    async def my_rank(
        self,
        request: Request[CurrentUser, Token, Any],
        game: str = GAME,
        period: BoardPeriod = PERIOD,
        around: int = Parameter(default=5, ge=0, le=50, description="Neighbours on each side"),
    ) -> PlayerRank:
        """My rank, score and percentile, with the players around me."""
        ref = await board_ref(game, period)
        return await BoardReader(services.index_redis()).rank(ref, request.user.id, around=around)


class ReportController(Controller):
    """Reports answered from the score history in the database."""

    path = "/reports"

    @get("/top-players", operation_id="TopPlayersReport")
    async def top_players(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        game: str = GAME,
        start: datetime = Parameter(query="from", description="Start of the period (inclusive)"),
        end: datetime = Parameter(query="to", description="End of the period (exclusive)"),
        limit: int = Parameter(default=10, ge=1, le=1000),
    ) -> Response[Any]:
        """The best players of a game over any period, with the game's operator applied to
        the scores submitted in it; `Accept: text/csv` answers the same rows as CSV."""
        found, rows = await ReportService(db_session).top_players(
            ReportQuery(game=game, start=start, end=end, limit=limit)
        )
        report = TopPlayersReport(
            game=found.slug,
            operator=found.operator,  # type: ignore[arg-type]
            sort_order=found.sort_order,  # type: ignore[arg-type]
            from_=start,
            to=end,
            items=rows,
        )
        wanted = request.accept.best_match(["application/json", "text/csv"], "application/json")
        if wanted == "text/csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["rank", "user_id", "display_name", "score", "reached_at"])
            for row in rows:
                writer.writerow(
                    [row.rank, row.user_id, row.display_name, row.score, row.reached_at.isoformat()]
                )
            filename = f"top-players-{found.slug}.csv"
            return Response(
                buffer.getvalue(),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return Response(report)


@websocket("/games/{game:str}/live", operation_id="LiveTop")
async def live_top(socket: WebSocket[Any, Any, Any], game: str, channels: ChannelsPlugin) -> None:
    """The game's top 10 now, then again each time it changes (at most 10 pushes a second)."""
    try:
        snapshot = await find_game(game)
    except DomainError as exc:
        await socket.close(code=4404, reason=exc.detail[:120])
        return
    await socket.accept()
    live.LIVE_CLIENTS.inc()
    try:
        async with channels.start_subscription([live.channel_of(snapshot)]) as subscriber:
            try:
                await socket.send_text((await live.top_message(snapshot)).decode())
            except DomainError:
                await socket.close(code=1013, reason="ranking index unavailable, retry later")
                return

            async def forward() -> None:
                async for message in subscriber.iter_events():
                    await socket.send_text(message.decode())

            async def until_closed() -> None:
                while True:
                    await socket.receive_text()

            tasks = [asyncio.create_task(forward()), asyncio.create_task(until_closed())]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    except WebSocketDisconnect:
        pass
    finally:
        live.LIVE_CLIENTS.dec()
