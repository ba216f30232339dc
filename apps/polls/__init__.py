"""Polls (brief #7): live polls with per-viewer result visibility, pushed over a WebSocket.

HTTP at /polls creates polls (2-10 options, single or multiple choice, a deadline,
`results_visible: live|after_vote|after_close`), opens and closes them, takes one ballot per
user or anonymous device token (changeable until the close) and answers results.
`/polls/{id}/live` pushes each viewer the tallies it may see (coalesced, at most 10 a
second) and the close. `stackyard polls watch ID` draws them as a live bar chart.
"""

from litestar import Router

from apps.polls.live import poll_live
from apps.polls.routes import PollController

router = Router(path="/polls", route_handlers=[PollController, poll_live], tags=["polls"])

__all__ = ["router"]
