"""Reviews tables: restaurants and their reviews, one review per user per restaurant.

The database is the source of truth for sentiment and scores; the Redis leaderboard is an
index rebuilt from these rows (`stackyard reviews rebuild`).
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Float, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from apps.kernel.db import Base

PENDING = "pending"


class Restaurant(Base):
    """A restaurant; `name_key`/`city_key` are the case- and space-folded forms searched on."""

    __tablename__ = "reviews_restaurant"
    __table_args__ = (
        UniqueConstraint("name_key", "city_key", name="uq_reviews_restaurant_name_city"),
        Index("ix_reviews_restaurant_city_key", "city_key"),
    )

    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(200))
    city_key: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[UUID]


class Review(Base):
    """A user's review; sentiment is `pending` (compound null) until the analysis task runs."""

    __tablename__ = "reviews_review"
    __table_args__ = (
        UniqueConstraint("restaurant_id", "user_id", name="uq_reviews_review_restaurant_user"),
        Index("ix_reviews_review_restaurant_label", "restaurant_id", "sentiment_label"),
    )

    restaurant_id: Mapped[UUID] = mapped_column(
        ForeignKey("reviews_restaurant.id", ondelete="CASCADE")
    )
    user_id: Mapped[UUID]
    stars: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text)
    sentiment_label: Mapped[str] = mapped_column(String(10), default=PENDING)
    sentiment_compound: Mapped[float | None] = mapped_column(Float, default=None)
