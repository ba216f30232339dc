"""The notifications API at /notifications: send, inbox, live streams, preferences, alerts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, WebSocket, delete, get, patch, post, put
from litestar import websocket as websocket_route
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import WebSocketDisconnect
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.errors import Invalid, Unauthorized
from apps.kernel.identity import CurrentUser, requires_admin, requires_user
from apps.kernel.pagination import MAX_PAGE_SIZE, Page, make_page
from apps.kernel.realtime import Hub, RealtimeChannelsPlugin, socket_user
from apps.notifications.alerts import AlertmanagerWebhook, check_credentials, to_notifications
from apps.notifications.config import NotificationsConfig
from apps.notifications.feed import ClientStream, Overflowed, announce, announce_topics, router_for
from apps.notifications.intake import ensure_intake
from apps.notifications.schemas import (
    TOPIC_REGEX,
    MarkedRead,
    MuteCreate,
    MuteRead,
    NotificationCreate,
    NotificationRead,
    PreferencesRead,
    PreferencesUpdate,
    Topics,
    UnreadCount,
)
from apps.notifications.services import NotificationService, read_model

SSE_RETRY_MS = 1000
UNAUTHORIZED_CLOSE = 4401
BAD_REQUEST_CLOSE = 4400
TRY_AGAIN_LATER = 1013


async def provide_notifications(db_session: AsyncSession) -> NotificationService:
    return NotificationService(db_session)


def provide_config() -> NotificationsConfig:
    return NotificationsConfig.from_env()


async def start_intake(request: Request[Any, Any, Any]) -> None:
    """Router hook: this process consumes the bus from its first notifications request on."""
    await ensure_intake(request.app.plugins.get(RealtimeChannelsPlugin).hub)


def parse_last_event_id(header: str | None, query: int | None) -> int | None:
    """The stream position to resume after: `Last-Event-ID` header, else `last_event_id`."""
    if header is None or not header.strip():
        return query
    text = header.strip()
    if not text.isdigit() or len(text) > 18:
        raise Invalid("Last-Event-ID", "Last-Event-ID is the `id` of a received event, a number")
    return int(text)


TopicParam = Parameter(pattern=TOPIC_REGEX, max_length=100, description="A topic name")
LAST_EVENT_ID_HELP = "Resume after this event id (browsers' WebSockets cannot send headers)"


class NotificationController(Controller):
    """Notifications (brief #25): sending, my inbox, read state and live delivery."""

    path = "/"
    dependencies = {
        "notifications": Provide(provide_notifications),
        "config": Provide(provide_config, sync_to_thread=False),
    }

    @post("/", operation_id="SendNotification", guards=[requires_admin], status_code=201)
    async def send(
        self,
        request: Request[CurrentUser, Token, Any],
        data: NotificationCreate,
        notifications: NotificationService,
        db_session: AsyncSession,
        hub: Hub,
    ) -> Response[NotificationRead]:
        """Send to a user, a topic's subscribers or everyone (admins; apps use the event bus).

        Answers 200 with the earlier notification when `key` was already used.
        """
        sent = await notifications.send(data, sender=f"admin:{request.user.id}")
        await db_session.commit()
        await announce(hub, sent)
        return Response(read_model(sent.notification), status_code=201 if sent.created else 200)

    @get("/", operation_id="ListNotifications", guards=[requires_user])
    async def list_notifications(
        self,
        request: Request[CurrentUser, Token, Any],
        notifications: NotificationService,
        unread: bool = Parameter(default=False, description="Only the unread ones"),
        page: int = Parameter(default=1, ge=1, le=1_000_000),
        page_size: int = Parameter(default=20, ge=1, le=MAX_PAGE_SIZE),
    ) -> Page[NotificationRead]:
        """My notifications, newest first."""
        items, total = await notifications.inbox(
            request.user.id, unread_only=unread, page=page, page_size=page_size
        )
        return make_page(request, items, total=total, page=page, page_size=page_size)

    @get("/unread-count", operation_id="CountUnreadNotifications", guards=[requires_user])
    async def unread_count(
        self, request: Request[CurrentUser, Token, Any], notifications: NotificationService
    ) -> UnreadCount:
        return UnreadCount(unread=await notifications.unread_count(request.user.id))

    @post(
        "/{notification_id:uuid}/read",
        operation_id="MarkNotificationRead",
        guards=[requires_user],
        status_code=200,
    )
    async def mark_read(
        self,
        request: Request[CurrentUser, Token, Any],
        notifications: NotificationService,
        notification_id: UUID,
    ) -> NotificationRead:
        """Mark one of my notifications read (again is fine)."""
        return await notifications.mark_read(request.user.id, notification_id)

    @post(
        "/read-all",
        operation_id="MarkAllNotificationsRead",
        guards=[requires_user],
        status_code=200,
    )
    async def mark_all_read(
        self, request: Request[CurrentUser, Token, Any], notifications: NotificationService
    ) -> MarkedRead:
        """Mark everything I have received so far read."""
        return MarkedRead(marked=await notifications.mark_all_read(request.user.id))

    # Left out of the OpenAPI document: the stream never ends, and schema-driven clients and
    # fuzzers that follow the document would wait on it forever.
    @get(
        "/stream",
        operation_id="StreamNotifications",
        guards=[requires_user],
        include_in_schema=False,
    )
    async def stream(
        self,
        request: Request[CurrentUser, Token, Any],
        hub: Hub,
        config: NotificationsConfig,
        last_event_id_header: str | None = Parameter(
            header="Last-Event-ID", default=None, max_length=40, required=False
        ),
        last_event_id: int | None = Parameter(
            default=None, ge=0, le=10**18, description=LAST_EVENT_ID_HELP
        ),
    ) -> ServerSentEvent:
        """Server-Sent Events: `event: notification`, `id: <seq>`, `data: <notification>`.

        Reconnecting with `Last-Event-ID` (EventSource does it) first sends what was missed.
        """
        after = parse_last_event_id(last_event_id_header, last_event_id)
        await ensure_intake(hub)
        client = ClientStream(router_for(hub, config), request.user.id, config.client_queue_size)
        return ServerSentEvent(_sse_messages(client, after, config.ping_interval))

    # ---- preferences and topics -------------------------------------------------------------

    @get("/preferences", operation_id="GetNotificationPreferences", guards=[requires_user])
    async def get_preferences(
        self, request: Request[CurrentUser, Token, Any], notifications: NotificationService
    ) -> PreferencesRead:
        """My time zone, quiet hours, mutes and topics."""
        return await notifications.preferences(request.user.id)

    @patch("/preferences", operation_id="UpdateNotificationPreferences", guards=[requires_user])
    async def update_preferences(
        self,
        request: Request[CurrentUser, Token, Any],
        notifications: NotificationService,
        data: PreferencesUpdate,
    ) -> PreferencesRead:
        """Change my time zone or quiet hours; held notifications come as one digest after."""
        await notifications.update_preferences(request.user.id, data)
        return await notifications.preferences(request.user.id)

    @put("/preferences/mutes/{topic:str}", operation_id="MuteTopic", guards=[requires_user])
    async def mute(
        self,
        request: Request[CurrentUser, Token, Any],
        notifications: NotificationService,
        data: MuteCreate,
        topic: str = TopicParam,
    ) -> MuteRead:
        """Mute a topic (until a time, or until unmuted); a digest follows when it ends."""
        return await notifications.mute(request.user.id, topic, data.until)

    @delete(
        "/preferences/mutes/{topic:str}",
        operation_id="UnmuteTopic",
        guards=[requires_user],
        status_code=HTTP_204_NO_CONTENT,
    )
    async def unmute(
        self,
        request: Request[CurrentUser, Token, Any],
        notifications: NotificationService,
        topic: str = TopicParam,
    ) -> None:
        await notifications.unmute(request.user.id, topic)

    @get("/topics", operation_id="ListNotificationTopics", guards=[requires_user])
    async def topics(
        self, request: Request[CurrentUser, Token, Any], notifications: NotificationService
    ) -> Topics:
        """Topics I am subscribed to."""
        return Topics(topics=await notifications.topics(request.user.id))

    @put("/topics/{topic:str}", operation_id="SubscribeTopic", guards=[requires_user])
    async def subscribe(
        self,
        request: Request[CurrentUser, Token, Any],
        notifications: NotificationService,
        db_session: AsyncSession,
        hub: Hub,
        topic: str = TopicParam,
    ) -> Topics:
        """Receive the notifications sent to `topic` from now on (live streams included)."""
        await notifications.subscribe(request.user.id, topic)
        await db_session.commit()
        await announce_topics(hub, request.user.id)
        return Topics(topics=await notifications.topics(request.user.id))

    @delete(
        "/topics/{topic:str}",
        operation_id="UnsubscribeTopic",
        guards=[requires_user],
        status_code=HTTP_204_NO_CONTENT,
    )
    async def unsubscribe(
        self,
        request: Request[CurrentUser, Token, Any],
        notifications: NotificationService,
        db_session: AsyncSession,
        hub: Hub,
        topic: str = TopicParam,
    ) -> None:
        await notifications.unsubscribe(request.user.id, topic)
        await db_session.commit()
        await announce_topics(hub, request.user.id)


def _sse_message(item: dict[str, Any]) -> ServerSentEventMessage:
    return ServerSentEventMessage(
        data=json.dumps(item, separators=(",", ":")), event="notification", id=item["seq"]
    )


async def _sse_messages(
    client: ClientStream, after: int | None, ping_interval: float
) -> AsyncIterator[ServerSentEventMessage]:
    async with client.open():
        # Sent once the feed is followed: from here on nothing the client is due can be missed.
        yield ServerSentEventMessage(comment="connected", retry=SSE_RETRY_MS)
        if after is not None:
            async for missed in client.missed(after):
                yield _sse_message(missed)
        while True:
            try:
                item = await client.next(ping_interval)
            except Overflowed:
                return  # the client reconnects with Last-Event-ID and misses nothing
            yield _sse_message(item) if item else ServerSentEventMessage(comment="ping")


@websocket_route("/ws", operation_id="NotificationsSocket")
async def notifications_socket(
    socket: WebSocket[Any, Any, Any],
    hub: Hub,
    last_event_id: int | None = Parameter(
        default=None, ge=0, le=10**18, description=LAST_EVENT_ID_HELP
    ),
) -> None:
    """WebSocket: `{"type":"notification","id":"<seq>","notification":{...}}` frames.

    Authenticate with the subprotocols `bearer, <access token>` (or the session cookie);
    resume with `?last_event_id=` or a `Last-Event-ID` header. `{"type":"ping"}` keeps it alive.
    """
    try:
        user, protocol = await socket_user(socket)
        if user is None:
            raise Unauthorized("Sign in first: offer the subprotocols `bearer, <access token>`")
        after = parse_last_event_id(socket.headers.get("last-event-id"), last_event_id)
    except Unauthorized as exc:
        await socket.close(code=UNAUTHORIZED_CLOSE, reason=exc.detail[:120])
        return
    except Invalid as exc:
        await socket.close(code=BAD_REQUEST_CLOSE, reason=exc.detail[:120])
        return
    config = NotificationsConfig.from_env()
    await ensure_intake(hub)
    client = ClientStream(router_for(hub, config), user.id, config.client_queue_size)
    async with client.open():  # following the feed before the client hears it is connected
        await socket.accept(subprotocols=protocol)
        code = await _relay(socket, client, after, config.ping_interval)
    if code is not None:
        with contextlib.suppress(Exception):  # the client may already be gone
            await socket.close(code=code, reason="slow consumer: reconnect with last_event_id")


async def _relay(
    socket: WebSocket[Any, Any, Any], client: ClientStream, after: int | None, ping: float
) -> int | None:
    """Send until the client leaves (None) or falls behind (1013)."""

    async def send() -> int | None:
        if after is not None:
            async for missed in client.missed(after):
                await socket.send_json(_socket_frame(missed))
        while True:
            try:
                item = await client.next(ping)
            except Overflowed:
                return TRY_AGAIN_LATER
            await socket.send_json(_socket_frame(item) if item else {"type": "ping"})

    async def receive() -> None:
        while True:
            await socket.receive_text()  # pongs and anything else: the client is alive

    sender, receiver = asyncio.create_task(send()), asyncio.create_task(receive())
    done, pending = await asyncio.wait({sender, receiver}, return_when="FIRST_COMPLETED")
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if sender in done and sender.exception() is None:
        return sender.result()
    if receiver in done and isinstance(receiver.exception(), WebSocketDisconnect):
        return None
    return None


def _socket_frame(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "notification", "id": str(item["seq"]), "notification": item}


async def alertmanager_credentials(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: the shared secret of NOTIFICATIONS_ALERTMANAGER_TOKEN (before the body is read)."""
    check_credentials(
        connection.headers.get("authorization"), NotificationsConfig.from_env().alertmanager_token
    )


class AlertController(Controller):
    """Alertmanager's webhook receiver: alerts become notifications to the `alerts` topic."""

    path = "/alerts"
    dependencies = {"notifications": Provide(provide_notifications)}

    @post(
        "/alertmanager",
        operation_id="ReceiveAlertmanagerWebhook",
        guards=[alertmanager_credentials],
        opt={"exclude_from_auth": True},
        status_code=200,
        security=[],
    )
    async def alertmanager(
        self,
        data: AlertmanagerWebhook,
        notifications: NotificationService,
        db_session: AsyncSession,
        hub: Hub,
    ) -> dict[str, int]:
        """Store each alert once (by fingerprint, status and start) and push it live."""
        sent = [await notifications.send(n, sender="alertmanager") for n in to_notifications(data)]
        await db_session.commit()
        for one in sent:
            await announce(hub, one)
        return {"received": len(sent), "stored": sum(1 for one in sent if one.created)}
