"""Request and response shapes of the notifications API (and of bus events it consumes).

A notification goes to one `audience`: `user` (needs `user_id`), `topic` (needs `topic`; its
subscribers get it) or `everyone`. A `topic` on a user or everyone notification is its category,
which users can mute. `key` makes sending idempotent: a second send with the same key answers
the first notification.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from apps.kernel.fields import stored_text

Audience = Literal["user", "topic", "everyone"]
TOPIC_REGEX = r"^[a-z0-9][a-z0-9._-]{0,99}$"
Topic = Annotated[
    str,
    msgspec.Meta(
        pattern=TOPIC_REGEX,
        max_length=100,
        description="Lowercase letters, digits and . _ - (e.g. `billing`, `alerts.page`)",
    ),
]
Kind = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{0,19}$", max_length=20)]
Clock = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["22:00"])]


class NotificationCreate(msgspec.Struct, forbid_unknown_fields=True):
    audience: Audience
    title: Annotated[str, stored_text(200, min_length=1)]
    body: Annotated[str, stored_text(5000)] = ""
    user_id: UUID | None = None
    topic: Topic | None = None
    kind: Kind = "message"
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    key: Annotated[str, stored_text(200, min_length=1)] | None = None


class NotificationRead(msgspec.Struct):
    id: UUID
    seq: int
    """Its place in the stream: the SSE event id, and what `Last-Event-ID` resumes after."""
    audience: Audience
    user_id: UUID | None
    topic: str | None
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    sender: str
    created_at: datetime
    read: bool = False


class UnreadCount(msgspec.Struct):
    unread: int


class MarkedRead(msgspec.Struct):
    marked: int


class QuietHours(msgspec.Struct, forbid_unknown_fields=True):
    """Local times of day (in the preference's time zone); 22:00-07:00 crosses midnight."""

    start: Clock
    end: Clock


class MuteRead(msgspec.Struct):
    topic: str
    until: datetime | None


class MuteCreate(msgspec.Struct, forbid_unknown_fields=True):
    until: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    """When the mute ends by itself; null mutes until DELETE. Its digest comes at the end."""


class PreferencesRead(msgspec.Struct):
    timezone: str
    quiet_hours: QuietHours | None
    mutes: list[MuteRead]
    topics: list[str]


class PreferencesUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields present change; `quiet_hours: null` turns quiet hours off."""

    timezone: Annotated[str, stored_text(64, min_length=1)] | UnsetType = UNSET
    quiet_hours: QuietHours | UnsetType | None = UNSET


class Topics(msgspec.Struct):
    topics: list[str]
