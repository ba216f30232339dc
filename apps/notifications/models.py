"""Notification tables: the store every delivery is read from (the database is the truth).

A notification is stored once, whatever its audience; `seq` is its place in the one stream
every client follows (gapless, committed in order: see `services.allocate_seq`). Read state is
a per-user watermark (`read_through`) plus receipts above it. A notification held back for a
user (muted topic, quiet hours) gets a `Held` row until it goes out in that user's digest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, BigInteger, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from apps.kernel.db import Base

AUDIENCES = ("user", "topic", "everyone")


class Notification(Base):
    """One message to a user, to a topic's subscribers, or to everyone."""

    __tablename__ = "notifications_notification"
    __table_args__ = (
        UniqueConstraint("seq", name="uq_notifications_notification_seq"),
        UniqueConstraint("dedupe_key", name="uq_notifications_notification_dedupe_key"),
        Index("ix_notifications_notification_user_seq", "user_id", "seq"),
        Index("ix_notifications_notification_topic_seq", "topic", "seq"),
        Index("ix_notifications_notification_audience_seq", "audience", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger)
    audience: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[UUID | None] = mapped_column(default=None)
    topic: Mapped[str | None] = mapped_column(String(100), default=None)
    kind: Mapped[str] = mapped_column(String(20), default="message")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sender: Mapped[str] = mapped_column(String(100))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), default=None)


class Receipt(Base):
    """`user_id` has read the notification `seq` (above their `read_through` watermark)."""

    __tablename__ = "notifications_receipt"
    __table_args__ = (UniqueConstraint("user_id", "seq", name="uq_notifications_receipt_user_seq"),)

    user_id: Mapped[UUID]
    seq: Mapped[int] = mapped_column(BigInteger)


class Preference(Base):
    """A user's quiet hours (local minutes of the day, in `timezone`) and read watermark."""

    __tablename__ = "notifications_preference"
    __table_args__ = (UniqueConstraint("user_id", name="uq_notifications_preference_user"),)

    user_id: Mapped[UUID]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    quiet_start: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    quiet_end: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    read_through: Mapped[int] = mapped_column(BigInteger, default=0)


class Subscription(Base):
    """`user_id` receives the notifications sent to `topic`."""

    __tablename__ = "notifications_subscription"
    __table_args__ = (
        UniqueConstraint("user_id", "topic", name="uq_notifications_subscription_user_topic"),
        Index("ix_notifications_subscription_topic", "topic"),
    )

    user_id: Mapped[UUID]
    topic: Mapped[str] = mapped_column(String(100))


class Mute(Base):
    """`user_id` muted `topic` until `until` (for good when null, until unmuted)."""

    __tablename__ = "notifications_mute"
    __table_args__ = (
        UniqueConstraint("user_id", "topic", name="uq_notifications_mute_user_topic"),
        Index("ix_notifications_mute_topic", "topic"),
    )

    user_id: Mapped[UUID]
    topic: Mapped[str] = mapped_column(String(100))
    until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class Held(Base):
    """Notification `seq` was not pushed to `user_id`; it goes into a digest at `release_at`.

    `release_at` is null while an open-ended mute holds it (set when the topic is unmuted).
    `reason` is `quiet`, `mute` or `both`.
    """

    __tablename__ = "notifications_held"
    __table_args__ = (
        UniqueConstraint("user_id", "seq", name="uq_notifications_held_user_seq"),
        Index("ix_notifications_held_release_at", "release_at"),
    )

    user_id: Mapped[UUID]
    seq: Mapped[int] = mapped_column(BigInteger)
    topic: Mapped[str | None] = mapped_column(String(100), default=None)
    reason: Mapped[str] = mapped_column(String(10))
    release_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    digest_seq: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """The digest that summarised it; the row stays so a resumed stream still skips it."""
