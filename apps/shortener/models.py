"""Shortener tables: links, the code sequence, and visit counters (never one row per visit).

Stats are read from `shortener_visit_count`, one row per link and dimension value (a day, a
referrer host, a browser family, a country), so a link with tens of millions of visits
answers as fast as a new one.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from apps.kernel.db import Base


class Link(Base):
    """A short code and the URL it redirects to; `owner_id` is null for anonymous links."""

    __tablename__ = "shortener_link"
    __table_args__ = (
        Index("ix_shortener_link_code", "code", unique=True),
        Index("ix_shortener_link_owner_created_at", "owner_id", "created_at"),
    )

    code: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(2048))
    owner_id: Mapped[UUID | None] = mapped_column(default=None)
    redirect_type: Mapped[int] = mapped_column(SmallInteger, default=302)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    max_visits: Mapped[int | None] = mapped_column(Integer, default=None)
    visits: Mapped[int] = mapped_column(BigInteger, default=0)
    """Visits written to the database so far (the Redis buffer may hold a few seconds more)."""
    is_alias: Mapped[bool] = mapped_column(default=False)


class CodeSequence(Base):
    """The next sequence number to scramble into a code (one row, `name` = 'links')."""

    __tablename__ = "shortener_code_sequence"
    __table_args__ = (UniqueConstraint("name", name="uq_shortener_code_sequence_name"),)

    name: Mapped[str] = mapped_column(String(32))
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class VisitCount(Base):
    """How many visits a link had for one value of one dimension (day, referrer, ...)."""

    __tablename__ = "shortener_visit_count"
    __table_args__ = (
        UniqueConstraint(
            "link_id", "dimension", "value", name="uq_shortener_visit_count_link_dimension_value"
        ),
    )

    link_id: Mapped[UUID] = mapped_column(ForeignKey("shortener_link.id", ondelete="CASCADE"))
    dimension: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(255))
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class VisitBatch(Base):
    """A buffered batch of visits already written, so a retried flush never counts twice."""

    __tablename__ = "shortener_visit_batch"
    __table_args__ = (
        UniqueConstraint("batch_id", name="uq_shortener_visit_batch_batch_id"),
        Index("ix_shortener_visit_batch_created_at", "created_at"),
    )

    batch_id: Mapped[str] = mapped_column(String(64))
