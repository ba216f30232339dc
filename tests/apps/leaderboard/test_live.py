"""The live top over a WebSocket, and the metrics the dashboards read."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from apps.leaderboard import live
from apps.leaderboard.services import find_game
from observability import known_metrics
from tests.apps.leaderboard.helpers import make_game, run, submit
from tests.conftest import Account


def test_live_socket_sends_the_top_then_each_change(
    client: TestClient[Any], user: Account, other_user: Account, admin: Account
) -> None:
    slug = make_game(client, admin)
    submit(client, user, slug, 10)
    with client.websocket_connect(f"/leaderboard/games/{slug}/live") as socket:
        first = json.loads(socket.receive_text())
        assert first["type"] == "top" and [r["score"] for r in first["items"]] == [10]
        submit(client, other_user, slug, 20)
        # The first score's own push may still be on its way (pushes trail by up to 100 ms).
        pushed = json.loads(socket.receive_text(timeout=5))
        if len(pushed["items"]) == 1:
            pushed = json.loads(socket.receive_text(timeout=5))
        assert [(r["user_id"], r["score"]) for r in pushed["items"]] == [
            (other_user.id, 20),
            (user.id, 10),
        ]


def test_live_socket_for_an_unknown_game_is_closed(client: TestClient[Any]) -> None:
    from litestar.exceptions import WebSocketDisconnect

    try:
        with client.websocket_connect("/leaderboard/games/nope/live") as socket:
            socket.receive_text()
    except WebSocketDisconnect as exc:
        assert exc.code == 4404
    else:  # pragma: no cover - the assertion below explains the failure
        raise AssertionError("the socket of an unknown game stayed open")


def test_the_declared_leaderboard_metrics_are_exported(
    client: TestClient[Any], user: Account, admin: Account
) -> None:
    slug = make_game(client, admin)
    submit(client, user, slug, 3)
    client.get(f"/leaderboard/games/{slug}/players/{user.id}/rank")
    text = client.get("/metrics").text
    exported = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    declared = known_metrics.APPS["apps/leaderboard"]
    assert declared <= exported, declared - exported


def test_a_push_due_after_the_channels_plugin_stopped_is_dropped_quietly(
    client: TestClient[Any], admin: Account, caplog: pytest.LogCaptureFixture
) -> None:
    # Shutdown stops the channels plugin before close_redis cancels the publisher: a push
    # falling due in between must end the task, not leave an exception nobody retrieves.
    slug = make_game(client, admin)
    stopped = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)

    async def scenario() -> None:
        game = await find_game(slug)
        publisher = live.LivePublisher(stopped)
        publisher.changed(game)
        task = publisher.task
        assert task is not None
        await asyncio.wait_for(task, timeout=5)
        assert task.exception() is None and not publisher.dirty and publisher.task is None
        publisher.changed(game)
        await publisher.stop()  # what close_redis does at shutdown
        assert publisher.task is None and not publisher.dirty

    with caplog.at_level(logging.ERROR):
        run(scenario)
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
