"""The live socket `/polls/{id}/live`: tallies pushed per viewer, coalesced, and the close.

Every vote, open and close publishes the poll's whole state at its new version on the Hub
channel `polls:<id>` (after the transaction commits). Each socket keeps only the newest
state (largest version, so out-of-order deliveries cannot regress it) in a `LiveView` fed
synchronously by the fan-out; its sender pushes what this viewer may see at most every
`PUSH_INTERVAL` seconds (leading and trailing edge: the first vote is pushed at once, the
last one always arrives). A slow client therefore never builds a backlog: pending pushes
collapse into one. Opening and closing are pushed at once, and a deadline passing is
noticed by each socket's own timer.

The protocol, JSON text frames:
  client: {"type": "subscribe"}   (the predefined request; again for a fresh snapshot)
          {"type": "pong"}        (answers the server's {"type": "ping"})
  server: {"type": "snapshot", "poll": Poll, "results": Results}
          {"type": "tally", "results": Results}
          {"type": "closed", "closed_at": ..., "results": Results}
          {"type": "opened", "closes_at": ..., "results": Results}
          {"type": "error", "detail": ...}
Close codes: 4401 bad token, 4404 no such poll, 4408 no subscribe in time, 4422 bad device,
1011 keepalive timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from apps.kernel import db
from apps.kernel.errors import NotFound, Unauthorized
from apps.kernel.realtime import Hub, socket_user
from apps.kernel.realtime import metrics as realtime_metrics
from apps.polls.services import (
    PollChange,
    PollService,
    PollState,
    Viewer,
    poll_read,
    results_of,
    utcnow,
    viewer_of,
)

PUSH_INTERVAL = 0.1
"""Seconds between two tally pushes to one socket: at most 10 a second."""
SUBSCRIBE_TIMEOUT = 30.0
MAX_EARLY_CHANGES = 1000
DEVICE_PATTERN = r"^[A-Za-z0-9_.~-]{8,200}$"
DEADLINE_MARGIN = 0.01

UNAUTHORIZED, NOT_FOUND, NO_SUBSCRIBE, BAD_DEVICE, KEEPALIVE_TIMEOUT = 4401, 4404, 4408, 4422, 1011

logger = logging.getLogger("stackyard.polls")
_encode = msgspec.json.Encoder().encode
_decode_change = msgspec.json.Decoder(PollChange).decode


class ClientRequest(msgspec.Struct):
    type: str = ""


_decode_request = msgspec.json.Decoder(ClientRequest).decode


def channel_of(poll_id: UUID) -> str:
    return f"polls:{poll_id.hex}"


async def announce(hub: Hub, change: PollChange) -> None:
    """Publish a committed change; a lost push is caught up by the next one or a reconnect."""
    try:
        await hub.publish(channel_of(change.poll), msgspec.to_builtins(change))
    except Exception:  # the database holds the truth; the live view is best effort
        logger.warning("could not publish poll %s v%s", change.poll, change.version, exc_info=True)


def valid_device(token: str) -> bool:
    return re.fullmatch(DEVICE_PATTERN, token) is not None


class LiveView:
    """What one socket's viewer should see next: fed by the Hub's fan-out, read by its sender."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.poll: PollState | None = None
        self.my_choices: list[int] | None = None
        self.my_version = -1
        self.early: list[PollChange] = []
        self.changed = asyncio.Event()
        self.deadline_moved = asyncio.Event()
        self.sent_status: str | None = None
        self.sent_results: bytes | None = None

    # ---- fed by the fan-out (synchronous, never refuses: only the newest state is kept) ---

    def take(self, raw: bytes) -> bool:
        try:
            change = _decode_change(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return True
        if self.poll is None:
            if len(self.early) < MAX_EARLY_CHANGES:
                self.early.append(change)
            return True
        self.apply(change)
        return True

    def start(self, poll: PollState, my_choices: list[int] | None) -> None:
        """Begin from a snapshot read after subscribing; changes seen before it are replayed."""
        self.poll, self.my_choices, self.my_version = poll, my_choices, poll.version
        for change in self.early:
            self.apply(change)
        self.early.clear()

    def apply(self, change: PollChange) -> None:
        assert self.poll is not None
        mine = change.voter is not None and change.voter == self.viewer.voter
        if mine and change.version > self.my_version:
            self.my_choices, self.my_version = change.choices, change.version
            self.changed.set()
        if change.version > self.poll.version:
            before = (self.poll.status, self.poll.closes_at)
            self.poll = self.poll.updated(change)
            if (self.poll.status, self.poll.closes_at) != before:
                self.deadline_moved.set()
            self.changed.set()

    # ---- read by the sender ---------------------------------------------------------------

    def _results(self, now: datetime) -> Any:
        assert self.poll is not None
        return results_of(self.poll, self.viewer, self.my_choices, now)

    def _mark_sent(self, results: Any, status: str) -> None:
        self.sent_status = status
        # Hidden results differ only by version: the viewer learns nothing from a vote.
        key = results if results.visible else msgspec.structs.replace(results, version=0)
        self.sent_results = _encode(key)

    def snapshot(self, now: datetime) -> bytes:
        assert self.poll is not None
        results = self._results(now)
        self._mark_sent(results, results.status)
        return _encode({"type": "snapshot", "poll": poll_read(self.poll, now), "results": results})

    def status_event(self, now: datetime) -> bytes | None:
        """`closed` or `opened` when the status changed since the last message, else None."""
        assert self.poll is not None
        results = self._results(now)
        if results.status == self.sent_status:
            return None
        self._mark_sent(results, results.status)
        if results.status == "closed":
            closed_at = self.poll.closed_time(now)
            return _encode({"type": "closed", "closed_at": closed_at, "results": results})
        return _encode({"type": "opened", "closes_at": self.poll.closes_at, "results": results})

    def tally(self, now: datetime) -> bytes | None:
        """A `tally` when what this viewer may see changed since the last message, else None."""
        results = self._results(now)
        key = results if results.visible else msgspec.structs.replace(results, version=0)
        if _encode(key) == self.sent_results:
            return None
        self._mark_sent(results, results.status)
        return _encode({"type": "tally", "results": results})

    def seconds_to_deadline(self, now: datetime) -> float | None:
        """Seconds until an open poll's `closes_at`, or None when no deadline is ahead."""
        if self.poll is None or self.poll.status != "open" or self.poll.closes_at is None:
            return None
        remaining = (self.poll.closes_at - now).total_seconds()
        return remaining + DEADLINE_MARGIN if remaining > -DEADLINE_MARGIN else None


class LiveSocket:
    """One accepted socket: waits for `subscribe`, then pushes until the client leaves."""

    def __init__(self, socket: WebSocket[Any, Any, Any], hub: Hub, poll_id: UUID, viewer: Viewer):
        self.socket = socket
        self.hub = hub
        self.poll_id = poll_id
        self.view = LiveView(viewer)
        self.last_heard = time.monotonic()
        self.sending = asyncio.Lock()

    async def send(self, message: bytes) -> None:
        async with self.sending:
            await self.socket.send_text(message.decode())

    async def error(self, detail: str) -> None:
        await self.send(_encode({"type": "error", "detail": detail}))

    async def run(self) -> tuple[int, str] | None:
        """Serve the socket; the close code and reason, or None when the client left."""
        if not await self._await_subscribe():
            return NO_SUBSCRIBE, 'send {"type": "subscribe"} first'
        async with self.hub.subscribe(channel_of(self.poll_id), sink=self.view.take):
            async with db.session() as session:
                polls = PollService(session)
                state = await polls.state(self.poll_id)
                mine = await polls.choices_of(self.poll_id, self.view.viewer.voter)
            self.view.start(state, mine)
            await self.send(self.view.snapshot(utcnow()))
            tasks = [
                asyncio.create_task(self._push()),
                asyncio.create_task(self._listen()),
                asyncio.create_task(self._keepalive()),
                asyncio.create_task(self._watch_deadline()),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if task.exception() is not None:
                if isinstance(task.exception(), WebSocketDisconnect):
                    return None
                raise task.exception()  # type: ignore[misc]
        return KEEPALIVE_TIMEOUT, "keepalive timeout"

    async def _await_subscribe(self) -> bool:
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                while True:
                    kind = self._request(await self.socket.receive_text())
                    if kind == "subscribe":
                        return True
                    if kind != "pong":
                        await self.error(f'unknown request {kind!r}: send {{"type": "subscribe"}}')
        except TimeoutError:
            return False

    def _request(self, text: str) -> str:
        self.last_heard = time.monotonic()
        try:
            return _decode_request(text).type
        except (msgspec.DecodeError, msgspec.ValidationError):
            return "?"

    async def _listen(self) -> None:
        while True:
            kind = self._request(await self.socket.receive_text())
            if kind == "subscribe":
                await self.send(self.view.snapshot(utcnow()))
            elif kind != "pong":
                await self.error(f"unknown request {kind!r}")

    async def _push(self) -> None:
        last_tally = -math.inf
        view = self.view
        while True:
            await view.changed.wait()
            view.changed.clear()
            status = view.status_event(utcnow())
            if status is not None:
                await self.send(status)
                continue
            delay = last_tally + PUSH_INTERVAL - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # what arrives meanwhile goes out in one push
                view.changed.set()
                continue
            tally = view.tally(utcnow())
            if tally is not None:
                await self.send(tally)
                last_tally = time.monotonic()

    async def _keepalive(self) -> None:
        config = self.hub.config
        while True:
            await asyncio.sleep(config.ping_interval)
            if time.monotonic() - self.last_heard > config.ping_interval + config.ping_timeout:
                return
            await self.send(_encode({"type": "ping", "ts": time.time()}))

    async def _watch_deadline(self) -> None:
        view = self.view
        while True:
            view.deadline_moved.clear()
            wait = view.seconds_to_deadline(utcnow())
            try:
                await asyncio.wait_for(view.deadline_moved.wait(), timeout=wait)
            except TimeoutError:
                view.changed.set()  # the deadline passed: the sender pushes the close
                if view.seconds_to_deadline(utcnow()) is None:
                    await view.deadline_moved.wait()


@websocket("/{poll_id:uuid}/live", operation_id="PollLive")
async def poll_live(socket: WebSocket[Any, Any, Any], poll_id: UUID, hub: Hub) -> None:
    """Live results: send `{"type": "subscribe"}`, get a snapshot, then tallies and the close.

    Sign in with the subprotocol pair `bearer, <access token>`; vote anonymously and see
    `after_vote` results with `?device=<the X-Device-Token you voted with>`.
    """
    try:
        user, protocol = await socket_user(socket)
    except Unauthorized as exc:
        await socket.close(code=UNAUTHORIZED, reason=exc.detail[:120])
        return
    device = socket.query_params.get("device")
    if device is not None and not valid_device(device):
        await socket.close(code=BAD_DEVICE, reason="device: 8-200 of A-Z a-z 0-9 _ . ~ -")
        return
    try:
        async with db.session() as session:
            await PollService(session).state(poll_id)
    except NotFound as exc:
        await socket.close(code=NOT_FOUND, reason=exc.detail[:120])
        return
    await socket.accept(subprotocols=protocol)
    with realtime_metrics.connected_client():
        try:
            closing = await LiveSocket(socket, hub, poll_id, viewer_of(user, device)).run()
        except WebSocketDisconnect:
            return
    if closing is not None:
        with contextlib.suppress(Exception):
            await socket.close(code=closing[0], reason=closing[1])
