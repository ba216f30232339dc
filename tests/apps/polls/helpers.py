"""Shared steps of the polls tests: make a poll, vote as someone, read results as someone."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import Response
from litestar.testing import TestClient

from tests.conftest import Account


def new_device() -> str:
    return f"device-{uuid.uuid4().hex}"


def as_viewer(account: Account | None = None, device: str | None = None) -> dict[str, str]:
    headers = dict(account.headers) if account is not None else {}
    if device is not None:
        headers["X-Device-Token"] = device
    return headers


def make_poll(client: TestClient[Any], owner: Account, **fields: Any) -> dict[str, Any]:
    body = {"question": f"Best colour {uuid.uuid4().hex[:6]}?", "options": ["Red", "Green", "Blue"]}
    response = client.post("/polls/", json={**body, **fields}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


def vote(
    client: TestClient[Any],
    poll_id: str,
    *choices: int,
    account: Account | None = None,
    device: str | None = None,
) -> Response:
    return client.put(
        f"/polls/{poll_id}/vote",
        json={"choices": list(choices)},
        headers=as_viewer(account, device),
    )


def results(
    client: TestClient[Any],
    poll_id: str,
    *,
    account: Account | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    response = client.get(f"/polls/{poll_id}/results", headers=as_viewer(account, device))
    assert response.status_code == 200, response.text
    return response.json()


def counts(body: dict[str, Any]) -> list[int | None]:
    return [option["votes"] for option in body["options"]]
