"""Real-time notifications (brief #25): inbox, WebSocket and SSE delivery, preferences, digests.

Other apps send through the kernel event bus rather than importing this app::

    await events.apublish("notifications.send", {"audience": "user", "user_id": str(uid),
                                                  "title": "Your order shipped", "topic": "orders"})

Clients follow `/notifications/ws` or `/notifications/stream` (SSE) and resume with their last
event id; a notification muted or sent in quiet hours is not pushed but summarised in one digest
when the mute or quiet period ends (Celery beat, `notifications.send_digests`).
"""

from litestar import Router

from apps.notifications.routes import (
    AlertController,
    NotificationController,
    notifications_socket,
    start_intake,
)

router = Router(
    path="/notifications",
    route_handlers=[NotificationController, AlertController, notifications_socket],
    before_request=start_intake,
    tags=["notifications"],
)

__all__ = ["router"]
