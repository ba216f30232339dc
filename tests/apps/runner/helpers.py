"""Helpers of the runner's HTTP tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient

QUICK = {"cpu_time_s": 1, "wall_time_s": 3}


def submit(client: TestClient[Any], account: Any, source: str, **body: Any) -> dict[str, Any]:
    payload = {"language": "python", "source": source, "limits": QUICK, **body}
    response = client.post("/runner/executions", json=payload, headers=account.headers)
    assert response.status_code == 202, response.text
    return response.json()


def wait_for(
    client: TestClient[Any],
    account: Any,
    execution_id: str,
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 10.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/runner/executions/{execution_id}", headers=account.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if until(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def done(body: dict[str, Any]) -> bool:
    return body["status"] in {"finished", "failed", "killed"}
