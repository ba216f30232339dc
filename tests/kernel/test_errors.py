"""Database errors the schema did not prevent still become 4xx problems, never 500."""

from __future__ import annotations

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient
from sqlalchemy.exc import DBAPIError

from apps.kernel.errors import exception_handlers


class DriverError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _app_raising(sqlstate: str) -> Litestar:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise DBAPIError("SELECT 1", {}, DriverError("invalid byte sequence: 0x00", sqlstate))

    return Litestar([boom], exception_handlers=exception_handlers, logging_config=None)


@pytest.mark.parametrize(("sqlstate", "status"), [("22021", 422), ("23505", 409), ("40001", 500)])
def test_sqlstate_decides_the_status(sqlstate, status):
    with TestClient(_app_raising(sqlstate)) as client:
        response = client.get("/boom")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    if status == 422:
        assert "0x00" in response.json()["detail"]
