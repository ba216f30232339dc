"""Request and response shapes of the leaderboard API.

Scores are integers (|score| <= 10^12), so sums stay exact in Redis' doubles and in the
database alike; a board row is `{rank, user_id, display_name, score}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from apps.kernel.fields import stored_text

SortOrder = Literal["high_first", "low_first"]
Operator = Literal["best", "latest", "sum"]
BoardPeriod = Literal["all", "daily", "weekly", "monthly"]
MAX_ABS_SCORE = 10**12

ScoreValue = Annotated[
    int,
    msgspec.Meta(
        ge=-MAX_ABS_SCORE,
        le=MAX_ABS_SCORE,
        description="An integer score (|score| <= 10^12)",
    ),
]
Slug = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=60,
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
        description="Lower-case letters, digits and single dashes, e.g. `space-race`",
    ),
]
GameName = Annotated[str, stored_text(200, min_length=1)]
IdempotencyKey = Annotated[
    str,
    stored_text(
        100,
        min_length=1,
        description="A replay of the same key (same user and game) changes nothing",
    ),
]
MaxScore = Annotated[
    int,
    msgspec.Meta(ge=1, le=MAX_ABS_SCORE, description="Largest plausible single score"),
]


class GameCreate(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name: GameName
    sort_order: SortOrder = "high_first"
    operator: Operator = "best"
    max_score: MaxScore | None = None


class GameUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields present change; sort order, operator and maximum only before any score."""

    name: GameName | UnsetType = UNSET
    sort_order: SortOrder | UnsetType = UNSET
    operator: Operator | UnsetType = UNSET
    max_score: MaxScore | UnsetType | None = UNSET


class GameRead(msgspec.Struct):
    id: UUID
    slug: str
    name: str
    sort_order: SortOrder
    operator: Operator
    max_score: int | None
    created_at: datetime


class GameList(msgspec.Struct):
    items: list[GameRead]


class ScoreSubmit(msgspec.Struct, forbid_unknown_fields=True):
    score: ScoreValue
    idempotency_key: IdempotencyKey | None = None


class ScoreAccepted(msgspec.Struct):
    id: UUID
    game: str
    user_id: UUID
    score: int
    submitted_at: datetime
    replayed: bool
    """True when the idempotency key was seen before: this is the original submission."""
    indexed: bool
    """False when Redis could not be reached: stored, and ranked after `leaderboard rebuild`."""
    board_score: int | None = None
    """The player's standing on the all-time board after this submission."""
    rank: int | None = None


class BoardRow(msgspec.Struct):
    rank: int
    user_id: UUID
    display_name: str
    score: int


class Board(msgspec.Struct):
    items: list[BoardRow]
    total: int
    """Players on this board."""


class PlayerRank(msgspec.Struct):
    rank: int
    score: int
    percentile: float
    """Share of the board's players ranked at or below this player, in percent (100 = first)."""
    around: list[BoardRow]


class ReportRow(msgspec.Struct):
    rank: int
    user_id: UUID
    display_name: str
    score: int
    reached_at: datetime


class TopPlayersReport(msgspec.Struct):
    game: str
    operator: Operator
    sort_order: SortOrder
    from_: datetime = msgspec.field(name="from")
    to: datetime = msgspec.field(name="to")
    items: list[ReportRow] = msgspec.field(default_factory=list)
