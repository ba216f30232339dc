"""leaderboard: players sign in once, then submit scores (70 %) and read boards (30 %).

Five games and 10,000 seeded players (the scenario's target writes their ids to the file in
LEADERBOARD_LOAD_PLAYERS); games and players are picked Zipf-skewed, so a few games and a few
players are hot, as on a real board. Reads: the top 10, my rank, and the players around a
(Zipf-chosen) seeded player. Against `--host` without that file, the games come from
`GET /leaderboard/games` and rank reads use players seen in the top 10.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from typing import Any

from locust import HttpUser, between, task

PASSWORD = "a long enough passphrase"
SKEW = 1.1


def zipf_weights(count: int, skew: float = SKEW) -> list[float]:
    """Cumulative Zipf weights for `random.choices(cum_weights=...)` over `count` items."""
    return list(itertools.accumulate(1 / (rank**skew) for rank in range(1, count + 1)))


def _load_players() -> dict[str, Any]:
    path = os.environ.get("LEADERBOARD_LOAD_PLAYERS", "")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            loaded: dict[str, Any] = json.load(handle)
            return loaded
    return {"games": [], "players": []}


SEEDED = _load_players()
PLAYER_WEIGHTS = zipf_weights(len(SEEDED["players"])) if SEEDED["players"] else []


class LeaderboardPlayer(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.games: list[str] = list(SEEDED["games"])
        self.seen: list[str] = []
        email = f"lb-load-{uuid.uuid4().hex[:16]}@example.com"
        self.client.post(
            "/auth/signup",
            json={"email": email, "password": PASSWORD, "display_name": "Load Player"},
            name="/auth/signup",
        )
        with self.client.post(
            "/auth/login",
            json={"email": email, "password": PASSWORD},
            name="/auth/login",
            catch_response=True,
        ) as response:
            token = _json(response).get("access_token")
            if not token:
                response.failure(f"no access_token in login answer ({response.status_code})")
                return
            self.client.headers["Authorization"] = f"Bearer {token}"
        self.client.cookies.clear()
        if not self.games:
            body = _json(self.client.get("/leaderboard/games", name="/leaderboard/games"))
            self.games = [g["slug"] for g in body.get("items", []) if isinstance(g, dict)][:5]
        self.game_weights = zipf_weights(len(self.games)) if self.games else []

    def _game(self) -> str | None:
        if not self.games:
            return None
        return random.choices(self.games, cum_weights=self.game_weights)[0]

    @task(7)
    def submit_score(self) -> None:
        game = self._game()
        if game is None:
            return
        score = int(random.paretovariate(1.5) * 100)
        with self.client.post(
            f"/leaderboard/games/{game}/scores",
            json={"score": min(score, 1_000_000), "idempotency_key": uuid.uuid4().hex},
            name="/leaderboard/games/{game}/scores",
            catch_response=True,
        ) as response:
            if response.status_code == 429:
                response.success()  # the per-user limit doing its job, not a failure

    @task(1)
    def read_top(self) -> None:
        game = self._game()
        if game is None:
            return
        response = self.client.get(
            f"/leaderboard/games/{game}/top?limit=10", name="/leaderboard/games/{game}/top"
        )
        items = _json(response).get("items", [])
        self.seen = [row["user_id"] for row in items if isinstance(row, dict)] or self.seen

    @task(1)
    def read_my_rank(self) -> None:
        game = self._game()
        if game is None:
            return
        with self.client.get(
            f"/leaderboard/games/{game}/me/rank?around=5",
            name="/leaderboard/games/{game}/me/rank",
            catch_response=True,
        ) as response:
            if response.status_code == 404:
                response.success()  # no score in this game yet

    @task(1)
    def read_around_a_player(self) -> None:
        game = self._game()
        players = SEEDED["players"] or self.seen
        if game is None or not players:
            return
        if SEEDED["players"]:
            player = random.choices(players, cum_weights=PLAYER_WEIGHTS)[0]
        else:
            player = random.choice(players)
        with self.client.get(
            f"/leaderboard/games/{game}/players/{player}/rank?around=5",
            name="/leaderboard/games/{game}/players/{user_id}/rank",
            catch_response=True,
        ) as response:
            if response.status_code == 404:
                response.success()  # this player has not played this game


def _json(response: Any) -> Any:
    try:
        return response.json() if response.content else {}
    except ValueError:
        return {}
