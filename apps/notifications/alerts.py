"""Alertmanager's webhook (version 4) turned into notifications to the `alerts` topic.

Each alert becomes one notification keyed by fingerprint, status and start, so Alertmanager's
repeats and retries of the same firing alert are stored once, and its resolution once more.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from apps.kernel.errors import NotFound, Unauthorized
from apps.notifications.schemas import NotificationCreate

ALERTS_TOPIC = "alerts"
Text = Annotated[str, msgspec.Meta(max_length=10_000)]


class Alert(msgspec.Struct):
    status: Literal["firing", "resolved"]
    labels: dict[str, Text]
    annotations: dict[str, Text] = msgspec.field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: Text = ""
    fingerprint: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[0-9A-Za-z]*$")] = ""


class AlertmanagerWebhook(msgspec.Struct):
    version: str
    status: Literal["firing", "resolved"]
    alerts: Annotated[list[Alert], msgspec.Meta(max_length=1000)]
    receiver: Text = ""
    groupKey: Text = ""
    externalURL: Text = ""
    truncatedAlerts: int = 0


def check_credentials(authorization: str | None, token: str | None) -> None:
    """Accept `Bearer <token>` or basic auth with `<token>` as password, compared in constant
    time; Unauthorized otherwise, NotFound while no token is configured (not deployed)."""
    if token is None:
        raise NotFound(
            "The Alertmanager receiver is not configured (NOTIFICATIONS_ALERTMANAGER_TOKEN)"
        )
    scheme, _, credentials = (authorization or "").partition(" ")
    offered = ""
    if scheme.lower() == "bearer":
        offered = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            offered = (
                base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[2]
            )
        except (binascii.Error, UnicodeDecodeError):
            offered = ""
    if not offered or not hmac.compare_digest(offered.encode(), token.encode()):
        raise Unauthorized("Send the receiver's shared secret as bearer credentials")


def _clip(text: str, limit: int) -> str:
    text = text.replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_notifications(webhook: AlertmanagerWebhook) -> list[NotificationCreate]:
    notes = []
    for alert in webhook.alerts:
        name = alert.labels.get("alertname", "alert")
        where = alert.labels.get("service") or alert.labels.get("instance") or ""
        severity = alert.labels.get("severity", "")
        title = f"[{alert.status.upper()}] {name}" + (f" on {where}" if where else "")
        body = alert.annotations.get("summary") or alert.annotations.get("description") or ""
        started = alert.startsAt.isoformat() if alert.startsAt else ""
        key = f"alertmanager:{alert.fingerprint or name}:{alert.status}:{started}"
        notes.append(
            NotificationCreate(
                audience="topic",
                topic=ALERTS_TOPIC,
                kind="alert",
                title=_clip(title, 200),
                body=_clip(body, 5000),
                data={
                    "status": alert.status,
                    "severity": _clip(severity, 100),
                    "labels": {_clip(k, 100): _clip(v, 500) for k, v in alert.labels.items()},
                    "starts_at": started,
                    "generator_url": _clip(alert.generatorURL, 1000),
                },
                key=_clip(key, 200),
            )
        )
    return notes
