"""The chat socket `/chat/ws?device=<id>`: delivery, receipts, presence and typing.

Each user has one Hub channel, `chat:user:<id>`; everything meant for a user (messages of
their conversations, receipts, contacts' presence, typing in their conversations, contacts'
key changes) is published there, and each of their sockets relays it. On connect a socket
subscribes first, then sends what this device has not acknowledged (from the database),
then live events, skipping live messages already sent from the backlog: with the client's
`delivered` acknowledgements every message reaches each device exactly once, and in
sequence order per conversation (a gap is filled from the database before a later message).

Presence: each socket is a Hub presence member of `chat:presence:<user>` named
`<status>/<socket>`, kept alive by the Hub's heartbeat (a Redis TTL), so a crashed server's
users turn offline by themselves. Changes are pushed to accepted contacts only.

Typing: `start`/`stop` are relayed to the other members of the conversation, never stored;
a `start` not refreshed within `TYPING_TTL` seconds is stopped by the server; at most
`TYPING_LIMIT` typing events per `TYPING_WINDOW` seconds per user.

The protocol, JSON text frames:
  client: {"type": "delivered"|"read", "conversation_id": ..., "seq": n}
          {"type": "typing", "conversation_id": ..., "state": "start"|"stop"}
          {"type": "presence", "status": "online"|"away"}
          {"type": "pong"}
  server: {"type": "message", "message": Message}     (backlog first, then live)
          {"type": "ready", "backlog": n}             (after the backlog)
          {"type": "receipt", "kind": "delivered"|"read", "conversation_id", "user_id", "seq"}
          {"type": "typing", "conversation_id", "user_id", "state"}
          {"type": "presence", "user_id", "status"}
          {"type": "key_change", "user_id", "device_id", "public_key"}
          {"type": "error", "detail": ...}            {"type": "ping"}
Close codes: 4401 bad token, 4404 device not registered, 4422 malformed device id,
1011 keepalive timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from apps.chat.models import ChatDevice
from apps.chat.services import ChatService, message_read
from apps.kernel import db
from apps.kernel.cache import get_redis
from apps.kernel.errors import DomainError, Unauthorized
from apps.kernel.ratelimit import RateLimiter
from apps.kernel.realtime import Hub, socket_user
from apps.kernel.realtime import metrics as realtime_metrics

TYPING_TTL = 5.0
TYPING_LIMIT = 20
TYPING_WINDOW = 10.0
PRESENCE_LIMIT = 10
"""Presence changes a user may announce per TYPING_WINDOW seconds (each one fans out)."""
SYNC_ATTEMPTS, SYNC_WAIT = 20, 0.5
UNAUTHORIZED, NO_DEVICE, BAD_DEVICE, KEEPALIVE_TIMEOUT = 4401, 4404, 4422, 1011
DEVICE_PATTERN = r"[A-Za-z0-9_.-]{1,64}"
Status = Literal["online", "away", "offline"]

logger = logging.getLogger("stackyard.chat")
_encode = msgspec.json.Encoder().encode


class ClientFrame(msgspec.Struct):
    type: str = ""
    conversation_id: UUID | None = None
    seq: int | None = None
    state: Literal["start", "stop"] | None = None
    status: Literal["online", "away"] | None = None


class _LiveMessage(msgspec.Struct):
    type: str = ""
    message: dict[str, Any] | None = None


_decode_frame = msgspec.json.Decoder(ClientFrame).decode
_decode_live = msgspec.json.Decoder(_LiveMessage).decode


def user_channel(user_id: UUID) -> str:
    return f"chat:user:{user_id.hex}"


def presence_channel(user_id: UUID) -> str:
    return f"chat:presence:{user_id.hex}"


async def tell(hub: Hub, users: Iterable[UUID], event: dict[str, Any]) -> None:
    """Publish one event to each user's channel; the database already holds the truth."""
    for user_id in set(users):
        try:
            await hub.publish(user_channel(user_id), event)
        except Exception:  # a lost push is caught up by the next connect
            logger.warning("could not publish %s to %s", event.get("type"), user_id, exc_info=True)


async def presence_of(hub: Hub, user_id: UUID) -> Status:
    members = await hub.members(presence_channel(user_id))
    if any(m.startswith("online/") for m in members):
        return "online"
    if any(m.startswith("away/") for m in members):
        return "away"
    return "offline"


class ChatSocket:
    """One device's accepted socket."""

    def __init__(self, socket: WebSocket[Any, Any, Any], hub: Hub, device: ChatDevice) -> None:
        self.socket = socket
        self.hub = hub
        self.device = device
        self.user_id = device.user_id
        self.name = secrets.token_hex(6)
        self.status: Status = "online"
        self.last_heard = time.monotonic()
        self.sending = asyncio.Lock()
        self.sent_upto: dict[str, int] = {}
        self.synced = asyncio.Event()
        self.live = asyncio.Event()
        self.early: list[bytes] = []
        self.typing: dict[UUID, asyncio.Task[None]] = {}
        self.typing_limit = RateLimiter(
            get_redis(), "chat:typing", limit=TYPING_LIMIT, window=TYPING_WINDOW
        )
        self.presence_limit = RateLimiter(
            get_redis(), "chat:presence", limit=PRESENCE_LIMIT, window=TYPING_WINDOW
        )

    async def send(self, event: dict[str, Any] | bytes) -> None:
        data = event if isinstance(event, bytes) else _encode(event)
        async with self.sending:
            await self.socket.send_text(data.decode())

    async def run(self) -> tuple[int, str] | None:
        async with self.hub.subscribe(user_channel(self.user_id)) as (subscription, _):
            relay = asyncio.create_task(self._relay(subscription))
            try:
                await self._await_subscription()
                await self._backlog()
            except BaseException:
                relay.cancel()
                raise
            await self._set_presence("online", joined=False)
            tasks = [
                relay,
                asyncio.create_task(self._listen()),
                asyncio.create_task(self._keepalive()),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in [*tasks, *self.typing.values()]:
                    task.cancel()
                await asyncio.gather(*tasks, *self.typing.values(), return_exceptions=True)
                with contextlib.suppress(Exception):
                    await self._stop_typing_everywhere()
                    await self.hub.leave(presence_channel(self.user_id), self._member())
                    await self._announce_presence()
        for task in done:
            error = task.exception()
            if isinstance(error, WebSocketDisconnect):
                return None
            if error is not None:
                raise error
        return KEEPALIVE_TIMEOUT, "keepalive timeout"

    # ---- delivery -----------------------------------------------------------------------

    async def _await_subscription(self) -> None:
        """Wait until a marker published on our channel comes back through the backend.

        Only then is the subscription surely live on Redis (a fresh pub/sub connection can
        miss what is published before its SUBSCRIBE is processed), so the backlog read next
        and the live events after it leave no hole.
        """
        marker = {"type": "sync", "socket": self.name}
        for _ in range(SYNC_ATTEMPTS):
            await self.hub.publish(user_channel(self.user_id), marker)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SYNC_WAIT):
                    await self.synced.wait()
                    return
        logger.warning("chat socket %s: no echo from the channel backend", self.name)

    async def _backlog(self) -> None:
        """Send what this device has not acknowledged, then what arrived live meanwhile."""
        async with db.session() as session:
            chat = ChatService(session)
            last = await chat.last_seqs(self.user_id)
            messages = await chat.undelivered(self.device)
            reads = [message_read(m) for m in messages]
        self.sent_upto = {conversation.hex: seq for conversation, seq in last.items()}
        for message in reads:
            self.sent_upto[message.conversation_id.hex] = message.seq
            await self.send({"type": "message", "message": msgspec.to_builtins(message)})
        await self.send({"type": "ready", "backlog": len(reads)})
        while self.early:
            await self._forward(self.early.pop(0))
        self.live.set()  # no await since the last check: nothing is left behind in `early`

    async def _relay(self, subscription: Any) -> None:
        """Live events, held back until the backlog is sent; sync markers are dropped."""
        async for data in subscription.events():
            if b'"type":"sync"' in data:
                if f'"socket":"{self.name}"'.encode() in data:
                    self.synced.set()
                continue
            if not self.live.is_set():
                self.early.append(data)
                continue
            await self._forward(data)

    async def _forward(self, data: bytes) -> None:
        """Send one event; messages in sequence order per conversation, none twice.

        A message published out of order (a later sender committed first) waits for nothing:
        the ones it skipped are read from the database and sent first, and their own live
        events are dropped when they come.
        """
        if b'"message"' in data:
            live = _decode_live(data)
            if live.type == "message" and live.message is not None:
                conversation = UUID(str(live.message["conversation_id"]))
                seq = int(live.message["seq"])
                sent = self.sent_upto.get(conversation.hex, 0)
                if seq <= sent:
                    return  # already sent (backlog or gap filling)
                if seq > sent + 1:
                    await self._fill_gap(conversation, sent, seq)
                self.sent_upto[conversation.hex] = seq
        await self.send(data)

    async def _fill_gap(self, conversation: UUID, after: int, before: int) -> None:
        async with db.session() as session:
            missing = await ChatService(session).messages(
                self.user_id, conversation, after=after, limit=before - after - 1
            )
            reads = [message_read(m) for m in missing]
        for message in reads:
            await self.send({"type": "message", "message": msgspec.to_builtins(message)})

    # ---- client frames ------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            text = await self.socket.receive_text()
            self.last_heard = time.monotonic()
            try:
                frame = _decode_frame(text)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                await self.send({"type": "error", "detail": f"bad frame: {exc}"})
                continue
            try:
                await self._handle(frame)
            except DomainError as exc:
                field = f"{exc.field}: " if exc.field else ""
                await self.send({"type": "error", "detail": field + exc.detail})

    async def _handle(self, frame: ClientFrame) -> None:
        kind = frame.type
        if kind == "pong":
            return
        if kind in ("delivered", "read"):
            if frame.conversation_id is None or frame.seq is None:
                await self.send({"type": "error", "detail": f"{kind}: give conversation_id, seq"})
                return
            await self._receipt(kind, frame.conversation_id, frame.seq)
        elif kind == "typing":
            if frame.conversation_id is None or frame.state is None:
                await self.send({"type": "error", "detail": "typing: give conversation_id, state"})
                return
            await self._typing(frame.conversation_id, frame.state)
        elif kind == "presence" and frame.status is not None:
            decision = await self.presence_limit.hit(self.user_id.hex)
            if not decision.allowed:
                retry = decision.retry_after
                await self.send(
                    {"type": "error", "detail": f"presence: rate limited, retry in {retry}s"}
                )
                return
            await self._set_presence(frame.status, joined=True)
        else:
            await self.send({"type": "error", "detail": f"unknown request {kind!r}"})

    async def _receipt(self, kind: str, conversation_id: UUID, seq: int) -> None:
        async with db.session() as session:
            chat = ChatService(session)
            if kind == "delivered":
                advanced = (await chat.acknowledge(self.device, conversation_id, seq)).advanced
            else:
                advanced = await chat.mark_read(self.user_id, conversation_id, seq)
            members = await chat.member_ids(self.user_id, conversation_id)
        if advanced:
            event = {
                "type": "receipt",
                "kind": kind,
                "conversation_id": str(conversation_id),
                "user_id": str(self.user_id),
                "seq": seq,
            }
            await tell(self.hub, members, event)

    # ---- typing -------------------------------------------------------------------------

    async def _typing(self, conversation_id: UUID, state: str) -> None:
        decision = await self.typing_limit.hit(self.user_id.hex)
        if not decision.allowed:
            await self.send(
                {
                    "type": "error",
                    "detail": f"typing: rate limited, retry in {decision.retry_after}s",
                }
            )
            return
        async with db.session() as session:
            members = await ChatService(session).member_ids(self.user_id, conversation_id)
        others = [m for m in members if m != self.user_id]
        running = self.typing.pop(conversation_id, None)
        if running is not None:
            running.cancel()
        if state == "start":
            self.typing[conversation_id] = asyncio.create_task(
                self._expire_typing(conversation_id, others)
            )
        await self._tell_typing(conversation_id, others, state)

    async def _tell_typing(self, conversation_id: UUID, others: list[UUID], state: str) -> None:
        event = {
            "type": "typing",
            "conversation_id": str(conversation_id),
            "user_id": str(self.user_id),
            "state": state,
        }
        await tell(self.hub, others, event)

    async def _expire_typing(self, conversation_id: UUID, others: list[UUID]) -> None:
        await asyncio.sleep(TYPING_TTL)
        self.typing.pop(conversation_id, None)
        await self._tell_typing(conversation_id, others, "stop")

    async def _stop_typing_everywhere(self) -> None:
        if not self.typing:
            return
        async with db.session() as session:
            chat = ChatService(session)
            pending = {c: await chat.member_ids(self.user_id, c) for c in self.typing}
        for conversation_id, members in pending.items():
            others = [m for m in members if m != self.user_id]
            await self._tell_typing(conversation_id, others, "stop")
        self.typing.clear()

    # ---- presence -----------------------------------------------------------------------

    def _member(self) -> str:
        return f"{self.status}/{self.name}"

    async def _set_presence(self, status: Status, *, joined: bool) -> None:
        if joined:
            await self.hub.leave(presence_channel(self.user_id), self._member())
        self.status = status
        await self.hub.join(presence_channel(self.user_id), self._member())
        await self._announce_presence()

    async def _announce_presence(self) -> None:
        async with db.session() as session:
            contacts = await ChatService(session).contact_ids(self.user_id)
        status = await presence_of(self.hub, self.user_id)
        event = {"type": "presence", "user_id": str(self.user_id), "status": status}
        await tell(self.hub, contacts, event)

    async def _keepalive(self) -> None:
        config = self.hub.config
        while True:
            await asyncio.sleep(config.ping_interval)
            if time.monotonic() - self.last_heard > config.ping_interval + config.ping_timeout:
                return
            await self.send({"type": "ping", "ts": time.time()})


@websocket("/ws", operation_id="ChatSocket")
async def chat_socket(socket: WebSocket[Any, Any, Any], hub: Hub) -> None:
    """Messages, receipts, presence and typing for one device (`?device=<device_id>`).

    Sign in with the subprotocol pair `bearer, <access token>`; register the device's key
    with `PUT /chat/keys` first.
    """
    try:
        user, protocol = await socket_user(socket)
        if user is None:
            raise Unauthorized("Sign in: offer the subprotocols `bearer, <access token>`")
    except Unauthorized as exc:
        await socket.close(code=UNAUTHORIZED, reason=exc.detail[:120])
        return
    device_id = socket.query_params.get("device", "")
    if re.fullmatch(DEVICE_PATTERN, device_id) is None:
        await socket.close(code=BAD_DEVICE, reason="device: 1-64 of A-Z a-z 0-9 _ . -")
        return
    async with db.session() as session:
        device = await ChatService(session).device(user.id, device_id)
    if device is None:
        await socket.close(code=NO_DEVICE, reason="device: register it with PUT /chat/keys")
        return
    await socket.accept(subprotocols=protocol)
    with realtime_metrics.connected_client():
        try:
            closing = await ChatSocket(socket, hub, device).run()
        except WebSocketDisconnect:
            return
    if closing is not None:
        with contextlib.suppress(Exception):
            await socket.close(code=closing[0], reason=closing[1])
