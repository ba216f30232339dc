"""Polls tables: a poll, its numbered options with vote counters, ballots and their choices.

The counters (`PollOption.votes`, `Poll.voters`) and the ballots change in one transaction
that first takes the poll's row (`version = version + 1`), so they always agree with a recount
of `polls_choice`, and each tally read in that transaction is exact for its version.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from apps.kernel.db import Base


class Poll(Base):
    """A question put to voters; `status` is draft, open or closed (see `closes_at` too)."""

    __tablename__ = "polls_poll"
    __table_args__ = (Index("ix_polls_poll_creator_created_at", "creator_id", "created_at"),)

    creator_id: Mapped[UUID]
    question: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10), default="single")
    results_visible: Mapped[str] = mapped_column(String(12), default="live")
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    closes_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    voters: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)


class PollOption(Base):
    """One answer of a poll, numbered from 1 in the order the creator gave them."""

    __tablename__ = "polls_option"
    __table_args__ = (UniqueConstraint("poll_id", "number", name="uq_polls_option_poll_number"),)

    poll_id: Mapped[UUID] = mapped_column(ForeignKey("polls_poll.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(String(200))
    votes: Mapped[int] = mapped_column(Integer, default=0)


class Ballot(Base):
    """One voter's ballot in one poll: `voter` is `user:<id>` or `device:<token digest>`."""

    __tablename__ = "polls_ballot"
    __table_args__ = (UniqueConstraint("poll_id", "voter", name="uq_polls_ballot_poll_voter"),)

    poll_id: Mapped[UUID] = mapped_column(ForeignKey("polls_poll.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(80))


class Choice(Base):
    """An option marked on a ballot (one for single choice, one or more for multiple)."""

    __tablename__ = "polls_choice"
    __table_args__ = (
        UniqueConstraint("ballot_id", "number", name="uq_polls_choice_ballot_number"),
        Index("ix_polls_choice_poll_number", "poll_id", "number"),
    )

    ballot_id: Mapped[UUID] = mapped_column(ForeignKey("polls_ballot.id", ondelete="CASCADE"))
    poll_id: Mapped[UUID] = mapped_column(ForeignKey("polls_poll.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(SmallInteger)
