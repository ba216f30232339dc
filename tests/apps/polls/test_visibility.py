"""`results_visible` per viewer: creator, voter, non-voter, anonymous; before and after close."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.apps.polls.helpers import counts, make_poll, new_device, results, vote
from tests.conftest import Account, sign_up

VIEWERS = ("creator", "voter", "non_voter", "anonymous", "device_voter")
SEES_BEFORE_CLOSE: dict[str, dict[str, str | None]] = {
    "live": dict.fromkeys(VIEWERS),
    "after_vote": {
        "creator": None,
        "voter": None,
        "non_voter": "vote",
        "anonymous": "vote",
        "device_voter": None,
    },
    "after_close": {viewer: "close" for viewer in VIEWERS} | {"creator": None},
}
"""For each rule and viewer: None if the counts are visible, else what would reveal them."""


@pytest.mark.parametrize("rule", list(SEES_BEFORE_CLOSE))
def test_each_viewer_sees_what_the_rule_allows_before_and_after_the_close(
    client: TestClient[Any], user: Account, other_user: Account, rule: str
) -> None:
    non_voter = sign_up(client, name="Carol")
    device = new_device()
    poll_id = make_poll(client, user, results_visible=rule)["id"]
    assert vote(client, poll_id, 2, account=other_user).status_code == 200
    cast = vote(client, poll_id, 3, device=device).json()
    assert cast["results"]["visible"] is (SEES_BEFORE_CLOSE[rule]["device_voter"] is None)
    viewers: dict[str, dict[str, Any]] = {
        "creator": {"account": user},
        "voter": {"account": other_user},
        "non_voter": {"account": non_voter},
        "anonymous": {},
        "device_voter": {"device": device},
    }

    for viewer, hidden_until in SEES_BEFORE_CLOSE[rule].items():
        seen = results(client, poll_id, **viewers[viewer])
        assert (seen["visible"], seen["hidden_until"]) == (hidden_until is None, hidden_until), (
            viewer
        )
        if hidden_until is None:
            assert counts(seen) == [0, 1, 1] and seen["voters"] == 2, viewer
        else:
            assert counts(seen) == [None, None, None] and seen["voters"] is None, viewer
    assert results(client, poll_id, account=other_user)["my_choices"] == [2]
    assert results(client, poll_id, device=device)["my_choices"] == [3]
    assert results(client, poll_id)["my_choices"] is None

    assert client.post(f"/polls/{poll_id}/close", headers=user.headers).status_code == 200
    for viewer, identity in viewers.items():
        seen = results(client, poll_id, **identity)
        assert seen["status"] == "closed" and seen["visible"], viewer
        assert counts(seen) == [0, 1, 1] and seen["voters"] == 2, viewer


def test_a_signed_in_voter_is_one_ballot_whatever_device_they_send(
    client: TestClient[Any], user: Account, other_user: Account
) -> None:
    poll_id = make_poll(client, user, results_visible="after_vote")["id"]
    vote(client, poll_id, 1, account=other_user, device=new_device())
    vote(client, poll_id, 2, account=other_user, device=new_device())
    seen = results(client, poll_id, account=other_user)
    assert seen["voters"] == 1 and counts(seen) == [0, 1, 0]
