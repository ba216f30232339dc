"""200 ballots at once: exact tallies, one ballot per device, counters equal to a recount."""

from __future__ import annotations

import asyncio
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from litestar.testing import TestClient

from apps.kernel import db
from apps.polls.services import PollService
from tests.apps.polls.helpers import counts, make_poll, new_device, results, vote
from tests.conftest import Account

VOTERS = 160
RACING_BALLOTS = 40


def recount(poll_id: str) -> tuple[list[int], list[int]]:
    """The counters and a recount of the stored ballots, read straight from the database."""

    async def read() -> tuple[list[int], list[int]]:
        try:
            async with db.session() as session:
                polls = PollService(session)
                state = await polls.state(uuid.UUID(poll_id))
                return list(state.votes), await polls.recount(uuid.UUID(poll_id))
        finally:
            await db.dispose_engines()

    return asyncio.run(read())


def test_two_hundred_ballots_at_once_give_exact_tallies(
    client: TestClient[Any], user: Account
) -> None:
    poll_id = make_poll(client, user, options=["A", "B", "C", "D"])["id"]
    racer = new_device()
    ballots = [(new_device(), i % 4 + 1) for i in range(VOTERS)]
    ballots += [(racer, i % 4 + 1) for i in range(RACING_BALLOTS)]
    start = threading.Barrier(len(ballots))

    def cast(ballot: tuple[str, int]) -> int:
        start.wait(timeout=30)
        return vote(client, poll_id, ballot[1], device=ballot[0]).status_code

    with ThreadPoolExecutor(max_workers=len(ballots)) as pool:
        statuses = list(pool.map(cast, ballots))

    assert statuses == [200] * len(ballots)
    final = results(client, poll_id, account=user)
    racer_choice = results(client, poll_id, device=racer)["my_choices"]
    assert racer_choice is not None and len(racer_choice) == 1
    expected = [VOTERS // 4] * 4
    expected[racer_choice[0] - 1] += 1
    assert final["voters"] == VOTERS + 1
    assert counts(final) == expected
    stored, recounted = recount(poll_id)
    assert stored == recounted == expected
