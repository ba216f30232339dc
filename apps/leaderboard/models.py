"""Leaderboard tables: games, players' display names and the score history (the source of truth).

Redis sorted sets are only an index over `leaderboard_score`; `stackyard leaderboard rebuild`
recreates every board from these rows.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from apps.kernel.db import Base


class Game(Base):
    """A game with its own boards; sort order and operator are fixed once scores exist."""

    __tablename__ = "leaderboard_game"

    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[str] = mapped_column(String(10))
    """`high_first` or `low_first`."""
    operator: Mapped[str] = mapped_column(String(10))
    """`best`, `latest` or `sum`: how a new score combines with the player's standing."""
    max_score: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """The largest plausible single score; anything above is refused (422)."""


class Player(Base):
    """The name a user shows on the boards (taken from their token at each submission)."""

    __tablename__ = "leaderboard_player"

    user_id: Mapped[UUID] = mapped_column(unique=True)
    display_name: Mapped[str] = mapped_column(String(100))


class Score(Base):
    """One accepted submission. Replays of an idempotency key find this row and change nothing."""

    __tablename__ = "leaderboard_score"
    __table_args__ = (
        # Only keyed rows can be replays, so only they are indexed for it: a row without a key
        # skips this index altogether (13% of the intake's INSERT per row on Postgres).
        Index(
            "uq_leaderboard_score_idempotency",
            "game_id",
            "user_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
            sqlite_where=text("idempotency_key IS NOT NULL"),
        ),
        # Reports scan one game's rows of a period; user and score make the index covering.
        # No other index: every one costs each row of the intake's INSERT (the one on
        # (user_id, submitted_at) that no query used cost 14% of it).
        Index("ix_leaderboard_score_game_time", "game_id", "submitted_at", "user_id", "score"),
    )

    game_id: Mapped[UUID] = mapped_column(ForeignKey("leaderboard_game.id", ondelete="CASCADE"))
    user_id: Mapped[UUID]
    score: Mapped[int] = mapped_column(BigInteger)
    submitted_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    """When the server accepted it, to the microsecond: decides ties and periods."""
    idempotency_key: Mapped[str | None] = mapped_column(String(100), default=None)
