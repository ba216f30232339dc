"""The polls API at /polls: create, open, close, vote and results; `/polls/{id}/live` pushes.

A vote commits before its change is published, so a pushed tally never shows a ballot the
database could still refuse.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post, put
from litestar.di import Provide
from litestar.params import Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.identity import CurrentUser, requires_user
from apps.kernel.pagination import MAX_PAGE_SIZE, Page, make_page
from apps.kernel.realtime import Hub
from apps.polls import live
from apps.polls.schemas import PollCreate, PollOpen, PollRead, ResultsRead, VoteCast, VoteRead
from apps.polls.services import (
    DEVICE_HEADER,
    PollChange,
    PollService,
    poll_read,
    results_of,
    utcnow,
    viewer_of,
)

DeviceToken = Parameter(
    header=DEVICE_HEADER,
    default=None,
    min_length=8,
    max_length=200,
    pattern=live.DEVICE_PATTERN,
    description="Anonymous voters: a random token kept by the device (one ballot per token)",
)


async def provide_polls(db_session: AsyncSession) -> PollService:
    return PollService(db_session)


class PollController(Controller):
    """Polls (brief #7): single or multiple choice, deadlines, per-viewer result visibility."""

    path = "/"
    dependencies = {"polls": Provide(provide_polls)}

    @post("/", operation_id="CreatePoll", status_code=201, guards=[requires_user])
    async def create_poll(
        self, request: Request[CurrentUser, Token, Any], data: PollCreate, polls: PollService
    ) -> PollRead:
        """Create a poll of 2 to 10 options; open at once unless `open` is false."""
        return poll_read(await polls.create(request.user.id, data), utcnow())

    @get("/", operation_id="ListMyPolls", guards=[requires_user])
    async def list_my_polls(
        self,
        request: Request[CurrentUser, Token, Any],
        polls: PollService,
        page: int = Parameter(default=1, ge=1, le=1_000_000),
        page_size: int = Parameter(default=20, ge=1, le=MAX_PAGE_SIZE),
    ) -> Page[PollRead]:
        """The polls I created, newest first."""
        rows, total = await polls.created_by(request.user.id, page=page, page_size=page_size)
        now = utcnow()
        items = [poll_read(poll, now) for poll in rows]
        return make_page(request, items, total=total, page=page, page_size=page_size)

    @get("/{poll_id:uuid}", operation_id="GetPoll")
    async def get_poll(self, poll_id: UUID, polls: PollService) -> PollRead:
        """A poll's question, options, rules and status (anyone with its id)."""
        return poll_read(await polls.state(poll_id), utcnow())

    @post("/{poll_id:uuid}/open", operation_id="OpenPoll", status_code=200, guards=[requires_user])
    async def open_poll(
        self,
        request: Request[CurrentUser, Token, Any],
        poll_id: UUID,
        polls: PollService,
        db_session: AsyncSession,
        hub: Hub,
        data: PollOpen | None = None,
    ) -> PollRead:
        """Open a draft or closed poll (creator only); `closes_at` sets a new deadline."""
        closes_at = data.closes_at if data is not None else PollOpen().closes_at
        poll, changed = await polls.open(poll_id, request.user, closes_at)
        await db_session.commit()
        if changed:
            await live.announce(hub, PollChange.of(poll, "opened"))
        return poll_read(poll, utcnow())

    @post(
        "/{poll_id:uuid}/close", operation_id="ClosePoll", status_code=200, guards=[requires_user]
    )
    async def close_poll(
        self,
        request: Request[CurrentUser, Token, Any],
        poll_id: UUID,
        polls: PollService,
        db_session: AsyncSession,
        hub: Hub,
    ) -> PollRead:
        """Stop voting now (creator only): everyone may see the results from then on."""
        poll, changed = await polls.close(poll_id, request.user)
        await db_session.commit()
        if changed:
            await live.announce(hub, PollChange.of(poll, "closed"))
        return poll_read(poll, utcnow())

    @put("/{poll_id:uuid}/vote", operation_id="Vote", status_code=200)
    async def vote(
        self,
        request: Request[CurrentUser | None, Token | None, Any],
        poll_id: UUID,
        data: VoteCast,
        polls: PollService,
        db_session: AsyncSession,
        hub: Hub,
        device: str | None = DeviceToken,
    ) -> VoteRead:
        """Cast my ballot, or replace it while the poll is open (one per user or device)."""
        viewer = viewer_of(request.user, device)
        outcome = await polls.vote(poll_id, viewer, data.choices)
        await db_session.commit()
        if outcome.changed:
            change = PollChange.of(
                outcome.poll, "vote", voter=outcome.voter, choices=outcome.choices
            )
            await live.announce(hub, change)
        results = results_of(outcome.poll, viewer, outcome.choices, utcnow())
        return VoteRead(choices=outcome.choices, first=outcome.first, results=results)

    @get("/{poll_id:uuid}/results", operation_id="PollResults")
    async def results(
        self,
        request: Request[CurrentUser | None, Token | None, Any],
        poll_id: UUID,
        polls: PollService,
        device: str | None = DeviceToken,
    ) -> ResultsRead:
        """The counts, if the poll's `results_visible` rule lets me see them now."""
        viewer = viewer_of(request.user, device)
        poll = await polls.state(poll_id)
        mine = await polls.choices_of(poll_id, viewer.voter)
        return results_of(poll, viewer, mine, utcnow())
