"""Polls domain logic: creating, opening and closing polls, ballots, tallies and visibility.

Every write to a poll first bumps its `version` (`UPDATE ... SET version = version + 1`),
which takes the poll's row lock on Postgres and the write lock on SQLite: writes to one poll
are serialized, so the counters move with the ballots in one transaction and the tally read
at the end of it is exact for that version. No HTTP objects here; the caller owns the session.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from apps.kernel.fields import ensure_storable
from apps.kernel.identity import CurrentUser
from apps.polls.models import Ballot, Choice, Poll, PollOption
from apps.polls.schemas import OptionRead, OptionResult, PollCreate, PollRead, ResultsRead

DEVICE_HEADER = "X-Device-Token"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Viewer:
    """Who is looking or voting: a signed-in user, a device token, both or neither."""

    user_id: UUID | None = None
    device_token: str | None = None

    @property
    def voter(self) -> str | None:
        """The ballot key: the user when signed in, else a digest of the device token."""
        if self.user_id is not None:
            return f"user:{self.user_id.hex}"
        if self.device_token:
            digest = hashlib.sha256(self.device_token.encode()).hexdigest()[:64]
            return f"device:{digest}"
        return None


def viewer_of(user: CurrentUser | None, device_token: str | None) -> Viewer:
    return Viewer(user.id if user is not None else None, device_token or None)


@dataclass(frozen=True)
class PollState:
    """A poll as read in one transaction: its definition, status and tally at `version`."""

    id: UUID
    creator_id: UUID
    question: str
    kind: str
    results_visible: str
    allow_anonymous: bool
    status: str
    closes_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    options: tuple[str, ...]
    votes: tuple[int, ...]
    voters: int
    version: int

    def status_at(self, now: datetime) -> str:
        """The status voters see: an open poll past its `closes_at` is closed."""
        if self.status == "open" and self.closes_at is not None and self.closes_at <= now:
            return "closed"
        return self.status

    def closed_time(self, now: datetime) -> datetime | None:
        if self.status == "closed":
            return self.closed_at
        return self.closes_at if self.status_at(now) == "closed" else None

    def updated(self, change: PollChange) -> PollState:
        """This poll as a newer change describes it (status, deadline and tally)."""
        return replace(
            self,
            version=change.version,
            voters=change.voters,
            votes=tuple(change.votes),
            status=change.status,
            closes_at=change.closes_at,
            closed_at=change.closed_at,
        )


class PollChange(msgspec.Struct, kw_only=True):
    """What every vote, open and close publishes: the poll's state at `version`.

    `voter` and `choices` (a vote's) stay on the server: each socket uses them to learn that
    its own viewer voted, and strips them before anything is sent.
    """

    type: str = "poll"
    reason: str
    poll: UUID
    version: int
    status: str
    closes_at: datetime | None
    closed_at: datetime | None
    voters: int
    votes: list[int]
    voter: str | None = None
    choices: list[int] | None = None

    @classmethod
    def of(
        cls,
        poll: PollState,
        reason: str,
        *,
        voter: str | None = None,
        choices: list[int] | None = None,
    ) -> PollChange:
        return cls(
            reason=reason,
            poll=poll.id,
            version=poll.version,
            status=poll.status,
            closes_at=poll.closes_at,
            closed_at=poll.closed_at,
            voters=poll.voters,
            votes=list(poll.votes),
            voter=voter,
            choices=choices,
        )


@dataclass(frozen=True)
class Visibility:
    visible: bool
    hidden_until: str | None


def visibility(poll: PollState, viewer: Viewer, voted: bool, now: datetime) -> Visibility:
    """Whether this viewer may see the counts now (the `results_visible` rule).

    The creator always may; everyone may once the poll is closed; before that `live` shows
    everyone, `after_vote` those who voted, `after_close` nobody else.
    """
    if viewer.user_id is not None and viewer.user_id == poll.creator_id:
        return Visibility(True, None)
    if poll.status_at(now) == "closed" or poll.results_visible == "live":
        return Visibility(True, None)
    if poll.results_visible == "after_vote":
        return Visibility(True, None) if voted else Visibility(False, "vote")
    return Visibility(False, "close")


def results_of(
    poll: PollState, viewer: Viewer, my_choices: Sequence[int] | None, now: datetime
) -> ResultsRead:
    """The results as this viewer may see them."""
    seen = visibility(poll, viewer, my_choices is not None, now)
    return ResultsRead(
        poll_id=poll.id,
        status=poll.status_at(now),  # type: ignore[arg-type]
        visible=seen.visible,
        hidden_until=seen.hidden_until,  # type: ignore[arg-type]
        voters=poll.voters if seen.visible else None,
        options=[
            OptionResult(number=n, text=text, votes=poll.votes[n - 1] if seen.visible else None)
            for n, text in enumerate(poll.options, start=1)
        ],
        my_choices=list(my_choices) if my_choices is not None else None,
        version=poll.version,
    )


def poll_read(poll: PollState, now: datetime) -> PollRead:
    return PollRead(
        id=poll.id,
        question=poll.question,
        kind=poll.kind,  # type: ignore[arg-type]
        results_visible=poll.results_visible,
        allow_anonymous=poll.allow_anonymous,
        status=poll.status_at(now),  # type: ignore[arg-type]
        closes_at=poll.closes_at,
        closed_at=poll.closed_time(now),
        creator_id=poll.creator_id,
        created_at=poll.created_at,
        options=[OptionRead(number=n, text=t) for n, t in enumerate(poll.options, start=1)],
    )


@dataclass(frozen=True)
class VoteOutcome:
    poll: PollState
    voter: str
    choices: list[int]
    first: bool
    changed: bool = field(default=True)


def _check_options(texts: Sequence[str]) -> list[str]:
    cleaned = [text.strip() for text in texts]
    seen: dict[str, int] = {}
    for index, text in enumerate(cleaned):
        if not text:
            raise Invalid(f"options[{index}]", "An option needs some text")
        key = text.casefold()
        if key in seen:
            raise Invalid(f"options[{index}]", f"Option {index + 1} repeats option {seen[key] + 1}")
        seen[key] = index
    return cleaned


def _check_closes_at(closes_at: datetime | None, now: datetime) -> datetime | None:
    ensure_storable(closes_at, "closes_at")
    if closes_at is not None and closes_at <= now:
        raise Invalid("closes_at", "closes_at must be in the future")
    return closes_at.astimezone(UTC) if closes_at is not None else None


def _check_choices(poll: PollState, choices: Sequence[int]) -> list[int]:
    marked = sorted(set(choices))
    if len(marked) != len(choices):
        raise Invalid("choices", "An option may be marked only once")
    if poll.kind == "single" and len(marked) != 1:
        raise Invalid("choices", "This poll takes exactly one choice")
    for index, number in enumerate(choices):
        if number > len(poll.options):
            raise Invalid(
                f"choices[{index}]", f"No option {number}: choose from 1 to {len(poll.options)}"
            )
    return marked


class PollService:
    """Polls and ballots; the session is owned by the caller."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, creator_id: UUID, data: PollCreate) -> PollState:
        now = utcnow()
        question = data.question.strip()
        if not question:
            raise Invalid("question", "The question needs some text")
        options = _check_options(data.options)
        poll = Poll(
            creator_id=creator_id,
            question=question,
            kind=data.kind,
            results_visible=data.results_visible,
            allow_anonymous=data.allow_anonymous,
            status="open" if data.open else "draft",
            closes_at=_check_closes_at(data.closes_at, now),
            closed_at=None,
            voters=0,
            version=0,
        )
        self.session.add(poll)
        await self.session.flush()
        self.session.add_all(
            PollOption(poll_id=poll.id, number=n, text=text, votes=0)
            for n, text in enumerate(options, start=1)
        )
        await self.session.flush()
        return await self.state(poll.id)

    async def state(self, poll_id: UUID) -> PollState:
        """The poll and its tally as this transaction sees them; NotFound if there is none."""
        poll = await self.session.get(Poll, poll_id, populate_existing=True)
        if poll is None:
            raise NotFound(f"No poll {poll_id}", field="poll_id")
        rows = (
            await self.session.execute(
                select(PollOption.text, PollOption.votes)
                .where(PollOption.poll_id == poll_id)
                .order_by(PollOption.number)
            )
        ).all()
        return PollState(
            id=poll.id,
            creator_id=poll.creator_id,
            question=poll.question,
            kind=poll.kind,
            results_visible=poll.results_visible,
            allow_anonymous=poll.allow_anonymous,
            status=poll.status,
            closes_at=poll.closes_at,
            closed_at=poll.closed_at,
            created_at=poll.created_at,
            options=tuple(row.text for row in rows),
            votes=tuple(row.votes for row in rows),
            voters=poll.voters,
            version=poll.version,
        )

    async def created_by(
        self, creator_id: UUID, *, page: int, page_size: int
    ) -> tuple[list[PollState], int]:
        """One page of the user's polls, newest first, and how many they have."""
        where = Poll.creator_id == creator_id
        total = await self.session.scalar(select(func.count()).select_from(Poll).where(where))
        ids = await self.session.scalars(
            select(Poll.id)
            .where(where)
            .order_by(Poll.created_at.desc(), Poll.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return [await self.state(poll_id) for poll_id in ids], int(total or 0)

    async def choices_of(self, poll_id: UUID, voter: str | None) -> list[int] | None:
        """The option numbers `voter` marked in the poll, or None if they have not voted."""
        if voter is None:
            return None
        ballot_id = await self.session.scalar(
            select(Ballot.id).where(Ballot.poll_id == poll_id, Ballot.voter == voter)
        )
        if ballot_id is None:
            return None
        numbers = await self.session.scalars(
            select(Choice.number).where(Choice.ballot_id == ballot_id).order_by(Choice.number)
        )
        return list(numbers)

    async def recount(self, poll_id: UUID) -> list[int]:
        """Votes per option counted from the ballots themselves (the counters must agree)."""
        state = await self.state(poll_id)
        counts = dict(
            (
                await self.session.execute(
                    select(Choice.number, func.count())
                    .where(Choice.poll_id == poll_id)
                    .group_by(Choice.number)
                )
            ).all()
        )
        return [int(counts.get(n, 0)) for n in range(1, len(state.options) + 1)]

    async def _lock(self, poll_id: UUID) -> PollState:
        """Take the poll for writing (first statement of the transaction) and bump its version."""
        result = await self.session.execute(
            update(Poll)
            .where(Poll.id == poll_id)
            .values(version=Poll.version + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 0:
            raise NotFound(f"No poll {poll_id}", field="poll_id")
        return await self.state(poll_id)

    async def open(
        self, poll_id: UUID, user: CurrentUser, closes_at: datetime | UnsetType | None = UNSET
    ) -> tuple[PollState, bool]:
        """Open a draft or closed poll for voting (optionally with a new deadline)."""
        now = utcnow()
        poll = await self._lock(poll_id)
        _ensure_creator(poll, user)
        deadline = poll.closes_at if closes_at is UNSET else _check_closes_at(closes_at, now)
        if deadline is not None and deadline <= now:
            raise Conflict(
                "The poll's closes_at has passed: send a new closes_at (or null) to reopen it",
                field="closes_at",
            )
        if poll.status == "open" and deadline == poll.closes_at:
            return poll, False
        await self.session.execute(
            update(Poll)
            .where(Poll.id == poll_id)
            .values(status="open", closes_at=deadline, closed_at=None)
            .execution_options(synchronize_session=False)
        )
        return await self.state(poll_id), True

    async def close(self, poll_id: UUID, user: CurrentUser) -> tuple[PollState, bool]:
        """Stop voting now; the results become visible to everyone."""
        now = utcnow()
        poll = await self._lock(poll_id)
        _ensure_creator(poll, user)
        if poll.status == "closed":
            return poll, False
        closed_at = poll.closed_time(now) or now
        await self.session.execute(
            update(Poll)
            .where(Poll.id == poll_id)
            .values(status="closed", closed_at=closed_at)
            .execution_options(synchronize_session=False)
        )
        return await self.state(poll_id), True

    async def vote(self, poll_id: UUID, viewer: Viewer, choices: Sequence[int]) -> VoteOutcome:
        """Cast or replace the viewer's ballot; counters and ballots change together."""
        poll = await self._lock(poll_id)
        status = poll.status_at(utcnow())
        if status != "open":
            raise Conflict(
                "The poll is closed" if status == "closed" else "The poll is not open yet",
                field="poll_id",
            )
        voter = viewer.voter
        if viewer.user_id is None and not poll.allow_anonymous:
            raise Unauthorized("Sign in to vote in this poll")
        if voter is None:
            raise Unauthorized(
                f"Sign in, or send an {DEVICE_HEADER} header to vote anonymously",
                field=DEVICE_HEADER,
            )
        marked = _check_choices(poll, choices)
        before = await self.choices_of(poll_id, voter)
        if before == marked:
            return VoteOutcome(poll, voter, marked, first=False, changed=False)
        if before is None:
            ballot = Ballot(poll_id=poll_id, voter=voter)
            self.session.add(ballot)
            await self.session.flush()
            ballot_id = ballot.id
            await self.session.execute(
                update(Poll)
                .where(Poll.id == poll_id)
                .values(voters=Poll.voters + 1)
                .execution_options(synchronize_session=False)
            )
        else:
            ballot_id = await self._ballot_id(poll_id, voter)
        removed = sorted(set(before or ()) - set(marked))
        added = sorted(set(marked) - set(before or ()))
        if removed:
            await self.session.execute(
                delete(Choice).where(Choice.ballot_id == ballot_id, Choice.number.in_(removed))
            )
            await self._count(poll_id, removed, -1)
        if added:
            self.session.add_all(
                Choice(ballot_id=ballot_id, poll_id=poll_id, number=n) for n in added
            )
            await self.session.flush()
            await self._count(poll_id, added, +1)
        return VoteOutcome(await self.state(poll_id), voter, marked, first=before is None)

    async def _ballot_id(self, poll_id: UUID, voter: str) -> UUID:
        ballot_id = await self.session.scalar(
            select(Ballot.id).where(Ballot.poll_id == poll_id, Ballot.voter == voter)
        )
        assert ballot_id is not None, "the ballot was read under the same lock"
        return ballot_id

    async def _count(self, poll_id: UUID, numbers: Sequence[int], step: int) -> None:
        await self.session.execute(
            update(PollOption)
            .where(PollOption.poll_id == poll_id, PollOption.number.in_(numbers))
            .values(votes=PollOption.votes + step)
            .execution_options(synchronize_session=False)
        )


def _ensure_creator(poll: PollState, user: CurrentUser) -> None:
    if user.id != poll.creator_id and not user.is_admin:
        raise Forbidden("Only the poll's creator may open or close it")
