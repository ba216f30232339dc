"""Request and response shapes of the reviews API.

A review's `sentiment` is `{label, compound}`: label `pending` and compound null until the
analysis task has run, then `positive`, `neutral` or `negative` with VADER's compound score.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from apps.kernel.fields import stored_text

SentimentLabel = Literal["pending", "positive", "neutral", "negative"]

Name = Annotated[str, stored_text(200, min_length=1, description="The restaurant's name")]
City = Annotated[str, stored_text(100, min_length=1, description="The city it is in")]
Stars = Annotated[int, msgspec.Meta(ge=1, le=5, description="1 (worst) to 5 (best)")]
ReviewText = Annotated[
    str, stored_text(5000, min_length=1, description="What the reviewer says; it is analysed")
]


class RestaurantCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    city: City


class RestaurantRead(msgspec.Struct):
    id: UUID
    name: str
    city: str
    created_at: datetime


class LabelCounts(msgspec.Struct):
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    pending: int = 0


class RestaurantDetail(msgspec.Struct):
    """A restaurant with its standing: counts from the database, rank from the leaderboard."""

    id: UUID
    name: str
    city: str
    created_at: datetime
    reviews: int
    average_stars: float | None
    score: float | None
    """Bayesian average of the analysed reviews' compound scores; null before the first."""
    label_counts: LabelCounts
    rank: int | None
    """1-based place on the leaderboard of every city; null while not on it."""
    city_rank: int | None


class ReviewSubmit(msgspec.Struct, forbid_unknown_fields=True):
    stars: Stars
    text: ReviewText


class SentimentRead(msgspec.Struct):
    label: SentimentLabel
    compound: float | None


class ReviewRead(msgspec.Struct):
    id: UUID
    restaurant_id: UUID
    user_id: UUID
    stars: int
    text: str
    sentiment: SentimentRead
    created_at: datetime
    updated_at: datetime


class LeaderboardEntry(msgspec.Struct):
    rank: int
    restaurant_id: UUID
    name: str
    city: str
    score: float
    reviews: int
    """Analysed reviews behind the score."""
    label_counts: LabelCounts


class Leaderboard(msgspec.Struct):
    items: list[LeaderboardEntry]
