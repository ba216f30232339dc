"""Request and response shapes of the polls API and of its live socket.

Options are numbered from 1 in the order they were given; a ballot names the numbers it marks
(`{"choices": [2]}`). Results carry counts only when the viewer may see them (`visible`);
otherwise `hidden_until` says what reveals them: the viewer's own vote, or the close.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from apps.kernel.fields import stored_text

MAX_OPTIONS = 10
Kind = Literal["single", "multiple"]
Visibility = Annotated[
    Literal["live", "after_vote", "after_close"],
    msgspec.Meta(
        description="Who sees the counts before the close: everyone (`live`), those who voted "
        "(`after_vote`) or nobody but the creator (`after_close`)"
    ),
]
Status = Literal["draft", "open", "closed"]
Question = Annotated[str, stored_text(300, min_length=1, description="What voters answer")]
OptionText = Annotated[str, stored_text(200, min_length=1)]
ClosesAt = Annotated[
    datetime,
    msgspec.Meta(tz=True, description="When voting stops: an RFC 3339 timestamp with an offset"),
]
OptionNumber = Annotated[int, msgspec.Meta(ge=1, le=MAX_OPTIONS)]


class PollCreate(msgspec.Struct, forbid_unknown_fields=True):
    question: Question
    options: Annotated[
        list[OptionText],
        msgspec.Meta(min_length=2, max_length=MAX_OPTIONS, description="2 to 10 distinct answers"),
    ]
    kind: Kind = "single"
    results_visible: Visibility = "live"
    closes_at: ClosesAt | None = None
    allow_anonymous: bool = True
    """Accept ballots from signed-out voters identified by an `X-Device-Token` header."""
    open: bool = True
    """Open for voting at once; false keeps it a draft until `POST /polls/{id}/open`."""


class PollOpen(msgspec.Struct, forbid_unknown_fields=True):
    """Absent `closes_at` keeps the current one; null removes the deadline."""

    closes_at: ClosesAt | UnsetType | None = UNSET


class VoteCast(msgspec.Struct, forbid_unknown_fields=True):
    choices: Annotated[
        list[OptionNumber],
        msgspec.Meta(
            min_length=1,
            max_length=MAX_OPTIONS,
            description="Option numbers: exactly one for a single-choice poll",
        ),
    ]


class OptionRead(msgspec.Struct):
    number: int
    text: str


class PollRead(msgspec.Struct):
    id: UUID
    question: str
    kind: Kind
    results_visible: str
    allow_anonymous: bool
    status: Status
    """`closed` once `closes_at` has passed, even before anyone closes it."""
    closes_at: datetime | None
    closed_at: datetime | None
    creator_id: UUID
    created_at: datetime
    options: list[OptionRead]


class OptionResult(msgspec.Struct):
    number: int
    text: str
    votes: int | None
    """Null while the results are hidden from this viewer."""


class ResultsRead(msgspec.Struct):
    poll_id: UUID
    status: Status
    visible: bool
    hidden_until: Literal["vote", "close"] | None
    voters: int | None
    options: list[OptionResult]
    my_choices: list[int] | None
    """What this viewer (user, or device token) marked; null before voting."""
    version: int
    """Grows with every vote, open and close: the newest results have the largest."""


class VoteRead(msgspec.Struct):
    choices: list[int]
    first: bool
    """True for the voter's first ballot in this poll, false when it replaced one."""
    results: ResultsRead
