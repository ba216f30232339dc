"""Shared steps of the socket tests: connect, read frames (skipping pings), seat two players."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession

FLEET_A = [
    {"ship": "carrier", "row": 0, "col": 0, "dir": "h"},
    {"ship": "battleship", "row": 2, "col": 0, "dir": "h"},
    {"ship": "cruiser", "row": 4, "col": 0, "dir": "h"},
    {"ship": "submarine", "row": 6, "col": 0, "dir": "h"},
    {"ship": "destroyer", "row": 8, "col": 0, "dir": "h"},
]
FLEET_B = [
    {"ship": "carrier", "row": 0, "col": 9, "dir": "v"},
    {"ship": "battleship", "row": 0, "col": 7, "dir": "v"},
    {"ship": "cruiser", "row": 0, "col": 5, "dir": "v"},
    {"ship": "submarine", "row": 5, "col": 5, "dir": "v"},
    {"ship": "destroyer", "row": 8, "col": 7, "dir": "h"},
]


class Player:
    """One socket and every frame it has received."""

    def __init__(self, ws: WebSocketTestSession) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    def send(self, **request: Any) -> None:
        self.ws.send_json(request)

    def next(self) -> dict[str, Any]:
        while True:
            frame = self.ws.receive_json(timeout=10)
            if frame["type"] != "ping":
                self.frames.append(frame)
                return frame

    def expect(self, kind: str) -> dict[str, Any]:
        frame = self.next()
        assert frame["type"] == kind, frame
        return frame

    def until(self, frame_type: str, /, **event: Any) -> dict[str, Any]:
        """Skip frames until one of `frame_type` whose event has the given fields."""
        while True:
            frame = self.next()
            if frame["type"] == "error" and frame_type != "error":
                raise AssertionError(frame)
            got = frame.get("event") or {}
            matches = all(got.get(key) == value for key, value in event.items())
            if frame["type"] == frame_type and matches:
                return frame


@contextmanager
def player(client: TestClient[Any]) -> Iterator[Player]:
    with client.websocket_connect("/battleship/ws") as ws:
        yield Player(ws)


def seat_two(a: Player, b: Player, *, public: bool = False) -> tuple[str, str, str]:
    """A creates, B joins by code: the code and both seat tokens."""
    a.send(type="create", name="Alice", public=public)
    created = a.expect("joined")
    b.send(type="join", game=created["game"], name="Bob")
    joined = b.expect("joined")
    a.until("update", kind="joined")
    return created["game"], created["token"], joined["token"]


def start(a: Player, b: Player) -> str:
    """Seat both, place both fleets; A is to fire first."""
    code, _, _ = seat_two(a, b)
    a.send(type="place", ships=FLEET_A)
    a.until("update", kind="placed", seat=0)
    b.send(type="place", ships=FLEET_B)
    b.until("update", kind="placed", seat=1)
    a.until("update", kind="placed", seat=1)
    return code
