"""/battleship/ws through the platform: lobby, placement, turns, secrecy, grace, spectators."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from apps.battleship import services
from apps.battleship.bot import choose_shot
from apps.battleship.config import BattleshipConfig
from apps.battleship.engine import parse_fleet
from apps.battleship.routes import lobby_of
from tests.apps.battleship.helpers import FLEET_A, FLEET_B, player, seat_two, start

pytestmark = pytest.mark.timeout(90)
STALE = "stale shot: aimed at move 0, the game is at 1"


@pytest.fixture
def short_timers(app: Any) -> Any:
    lobby = lobby_of(app)
    saved = lobby.config
    lobby.config = BattleshipConfig(grace_seconds=0.5, placement_timeout=1.0)
    yield lobby.config
    lobby.config = saved


def test_a_game_created_is_listed_until_someone_joins_it_by_code(client: TestClient[Any]) -> None:
    with player(client) as a, player(client) as b:
        a.send(type="create", name="Alice")
        code = a.expect("joined")["game"]
        b.send(type="list")
        assert code in [game["game"] for game in b.expect("games")["games"]]
        b.send(type="join", game=code.lower(), name="Bob")
        joined = b.expect("joined")
        assert (joined["seat"], joined["state"]["phase"]) == (1, "placing")
        b.send(type="list")
        assert code not in [game["game"] for game in b.expect("games")["games"]]


def test_private_games_are_not_listed_and_a_third_player_cannot_join(
    client: TestClient[Any],
) -> None:
    with player(client) as a, player(client) as b, player(client) as c:
        code, _, _ = seat_two(a, b)
        c.send(type="list")
        assert code not in [game["game"] for game in c.expect("games")["games"]]
        c.send(type="join", game=code)
        assert "already has two players" in c.expect("error")["detail"]
        c.send(type="join", game="NOPE99")
        assert "no game with code NOPE99" in c.expect("error")["detail"]


def test_quick_match_pairs_two_waiting_players(client: TestClient[Any]) -> None:
    with player(client) as a, player(client) as b:
        a.send(type="quick", name="Alice")
        first = a.expect("joined")
        b.send(type="quick", name="Bob")
        second = b.expect("joined")
    # Other tests may have left open public games: B joined one, possibly A's.
    assert first["seat"] == 0 and second["seat"] == 1
    assert second["state"]["phase"] == "placing"


@pytest.mark.parametrize(
    ("request_frame", "reason"),
    [
        ({"type": "place", "ships": FLEET_A[:3]}, "exactly 5 ships"),
        ({"type": "place", "ships": [{**FLEET_A[0], "col": 7}, *FLEET_A[1:]]}, "does not fit"),
        (
            {"type": "place", "ships": [{**FLEET_A[1], "row": 0}, FLEET_A[0], *FLEET_A[2:]]},
            "overlaps",
        ),
        ({"type": "fire", "row": 0, "col": 0}, "no shots while the game is placing"),
        ({"type": "dance"}, "unknown request type 'dance'"),
        ({"type": "create"}, "already in game"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    client: TestClient[Any], request_frame: dict[str, Any], reason: str
) -> None:
    with player(client) as a, player(client) as b:
        seat_two(a, b)
        a.send(**request_frame)
        error = a.expect("error")
        assert reason in error["detail"] and error["request"] == request_frame["type"]


def test_malformed_frames_get_an_error_and_the_socket_stays_open(client: TestClient[Any]) -> None:
    with client.websocket_connect("/battleship/ws") as ws:
        ws.send_text("not json")
        assert "JSON" in ws.receive_json(timeout=5)["detail"]
        ws.send_text("[1, 2]")
        assert "string `type`" in ws.receive_json(timeout=5)["detail"]
        ws.send_text("x" * 10_000)
        assert "limited to" in ws.receive_json(timeout=5)["detail"]
        ws.send_json({"type": "create", "name": "\x1b[2J"})
        assert "control characters" in ws.receive_json(timeout=5)["detail"]
        ws.send_json({"type": "list"})
        assert ws.receive_json(timeout=5)["type"] == "games"


def test_shots_out_of_turn_repeated_or_stale_are_refused(client: TestClient[Any]) -> None:
    with player(client) as a, player(client) as b:
        start(a, b)
        b.send(type="fire", row=0, col=0)
        assert b.expect("error")["detail"] == "not your turn"
        a.send(type="fire", row=9, col=9, move=0)
        shot = a.until("update", kind="shot")["event"]
        assert (shot["result"], shot["move"]) == ("miss", 1)
        b.until("update", kind="shot")
        b.send(type="fire", row=5, col=5, move=0)
        assert "stale shot" in b.expect("error")["detail"]
        b.send(type="fire", row=5, col=5, move=1)
        b.until("update", kind="shot", seat=1)
        a.send(type="fire", row=9, col=9)
        assert "already fired at" in a.until("error")["detail"]


def test_simultaneous_shots_at_the_same_move_resolve_to_the_one_on_turn(
    client: TestClient[Any],
) -> None:
    with player(client) as a, player(client) as b:
        start(a, b)
        # Both fire at move 0 at once, A twice: whatever order they arrive in, only A's first
        # shot is applied; the others are refused as out of turn or aimed at a past move.
        b.send(type="fire", row=1, col=1, move=0)
        a.send(type="fire", row=0, col=9, move=0)
        a.send(type="fire", row=1, col=9, move=0)
        hit = a.until("update", kind="shot")
        assert (hit["event"]["row"], hit["event"]["col"], hit["event"]["result"]) == (0, 9, "hit")
        assert a.until("error")["detail"] in {"not your turn", STALE}
        assert b.until("error")["detail"] in {"not your turn", STALE}
        assert hit["state"]["move"] == 1 and hit["state"]["turn"] == 1
        b.send(type="fire", row=0, col=0, move=1)
        assert b.until("update", kind="shot", seat=1)["state"]["move"] == 2


def unhit_cells(fleet: list[dict[str, Any]], fired: set[tuple[int, int]]) -> set[tuple[int, int]]:
    return {cell for ship in parse_fleet(fleet) for cell in ship.cells} - fired


def cells_in(value: Any) -> set[tuple[int, int]]:
    """Every [row, col] pair anywhere in a JSON value."""
    found: set[tuple[int, int]] = set()
    if isinstance(value, list):
        if len(value) >= 2 and all(isinstance(v, int) for v in value[:2]):
            found.add((value[0], value[1]))
        for item in value:
            found |= cells_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            found |= cells_in(item)
    return found


def test_no_frame_sent_to_b_holds_a_single_unhit_cell_of_as_fleet(client: TestClient[Any]) -> None:
    with player(client) as a, player(client) as b, player(client) as watcher:
        code = start(a, b)
        watcher.send(type="watch", game=code)
        watcher.expect("watching")
        state = a.frames[-1]["state"]
        while state["phase"] != "finished":
            mover, seat = (a, 0) if state["turn"] == 0 else (b, 1)
            row, col = choose_shot(state["boards"][1 - seat])
            mover.send(type="fire", row=row, col=col, move=state["move"])
            state = mover.until("update", kind="shot", move=state["move"] + 1)["state"]
            other = b if mover is a else a
            other.until("update", kind="shot", move=state["move"])
        watcher.until("update", move=state["move"])
    # Replay B's frames in order: at each, the cells of A's board B may know are those B fired at.
    fired: set[tuple[int, int]] = set()
    assert b.frames and b.frames[0]["type"] == "joined"
    for frame in b.frames:
        event = frame.get("event") or {}
        if event.get("kind") == "shot" and event["seat"] == 1:
            fired.add((event["row"], event["col"]))
        assert not cells_in(frame["state"]["boards"][0]) & unhit_cells(FLEET_A, fired), frame
        assert "ships" not in frame["state"]["boards"][0]
        assert frame["state"]["boards"][1]["ships"] in ([], FLEET_B)
    for frame in watcher.frames:
        assert "ships" not in frame["state"]["boards"][0]
        assert "ships" not in frame["state"]["boards"][1]
    assert state["winner"] in (0, 1) and state["reason"] == "all ships sunk"


def test_every_move_is_saved_before_it_is_announced(client: TestClient[Any]) -> None:
    with player(client) as a, player(client) as b:
        code = start(a, b)
        a.send(type="fire", row=0, col=9)
        announced = a.until("update", kind="shot")["state"]
        stored = asyncio.run(services.load(code))
    assert stored is not None
    assert stored.game.view(0) == announced
    assert stored.game.boards[1].shots == {(0, 9): "hit"}


def test_a_player_takes_the_seat_back_with_the_token(
    client: TestClient[Any], short_timers: BattleshipConfig
) -> None:
    with player(client) as a, player(client) as b:
        code, token_a, _ = seat_two(a, b)
        with player(client) as thief:
            thief.send(type="resume", game=code, token="not-the-token")
            assert "does not match" in thief.expect("error")["detail"]
        a.ws.close()
        b.until("update", kind="presence", seat=0, connected=False)
        with player(client) as back:
            back.send(type="resume", game=code, token=token_a)
            resumed = back.expect("joined")
            assert resumed["seat"] == 0 and resumed["state"]["boards"][0]["placed"] is False
            b.until("update", kind="presence", seat=0, connected=True)
            time.sleep(short_timers.grace_seconds + 0.3)
            back.send(type="place", ships=FLEET_A)
            assert back.until("update", kind="placed", seat=0)["state"]["phase"] == "placing"


def test_a_player_gone_past_the_grace_period_forfeits(
    client: TestClient[Any], short_timers: BattleshipConfig
) -> None:
    with player(client) as a, player(client) as b:
        code, token_a, _ = seat_two(a, b)
        a.ws.close()
        finished = b.until("update", kind="forfeit")
        assert finished["state"]["winner"] == 1 and "did not return" in finished["state"]["reason"]
        with player(client) as late:
            late.send(type="resume", game=code, token=token_a)
            assert late.expect("joined")["state"]["phase"] == "finished"
            late.send(type="fire", row=0, col=0)
            assert "finished" in late.until("error")["detail"]


def test_missing_the_placement_deadline_forfeits(
    client: TestClient[Any], short_timers: BattleshipConfig
) -> None:
    with player(client) as a, player(client) as b:
        seat_two(a, b)
        b.send(type="place", ships=FLEET_B)
        b.until("update", kind="placed", seat=1)
        ended = b.until("update", kind="finished")["state"]
    assert ended["winner"] == 1 and "did not place ships in time" in ended["reason"]


def test_a_newer_connection_takes_over_the_seat(client: TestClient[Any]) -> None:
    with player(client) as a, player(client) as b:
        code, token_a, _ = seat_two(a, b)
        with player(client) as again:
            again.send(type="resume", game=code, token=token_a)
            again.expect("joined")
            with pytest.raises(Exception):  # noqa: B017 - the old socket is closed 4409
                a.next()
            again.send(type="place", ships=FLEET_A)
            again.until("update", kind="placed", seat=0)


def test_resigning_gives_the_game_away_and_spectators_see_it(client: TestClient[Any]) -> None:
    with player(client) as a, player(client) as b, player(client) as watcher:
        code = start(a, b)
        watcher.send(type="watch", game=code)
        assert watcher.expect("watching")["state"]["you"] is None
        b.send(type="resign")
        ended = watcher.until("update", kind="forfeit")["state"]
        assert ended["winner"] == 0 and ended["reason"] == "Bob resigned"
        watcher.send(type="fire", row=0, col=0)
        assert "no seat" in watcher.expect("error")["detail"]


def test_a_signed_in_player_is_named_after_the_account(client: TestClient[Any], user: Any) -> None:
    with client.websocket_connect("/battleship/ws", subprotocols=["bearer", user.token]) as ws:
        ws.send_json({"type": "create", "public": False})
        joined = ws.receive_json(timeout=5)
    assert joined["state"]["names"][0] == user.display_name == "Alice"


def test_a_bad_access_token_is_refused_with_4401(client: TestClient[Any]) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/battleship/ws", subprotocols=["bearer", "not-a-jwt"]) as ws,
    ):
        ws.receive_json(timeout=5)
    assert refused.value.code == 4401
