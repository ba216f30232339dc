"""Helpers of the reviews tests: restaurants in cities of their own, tasks run on demand."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

RESTAURANTS = "/reviews/restaurants"
LEADERBOARD = "/reviews/leaderboard"

accuracy_lines: list[str] = []
"""Filled by test_sentiment; printed at the end of the run, whatever the capture mode."""


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if accuracy_lines:
        terminalreporter.section("reviews: sentiment accuracy")
        for line in accuracy_lines:
            terminalreporter.write_line(line)


def unique_city() -> str:
    """A city no other test uses, so its leaderboard holds only this test's restaurants."""
    return f"Testville {uuid.uuid4().hex[:10]}"


def add_restaurant(client: Any, admin: Any, *, name: str | None = None, city: str | None = None):
    body = {"name": name or f"Bistro {uuid.uuid4().hex[:8]}", "city": city or unique_city()}
    response = client.post(RESTAURANTS, json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


def review(client: Any, account: Any, restaurant_id: str, text: str, stars: int = 4) -> Any:
    return client.post(
        f"{RESTAURANTS}/{restaurant_id}/reviews",
        json={"stars": stars, "text": text},
        headers=account.headers,
    )


def reviews_of(client: Any, restaurant_id: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{RESTAURANTS}/{restaurant_id}/reviews", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run service code on a loop of its own, closing that loop's Redis and engines after."""
    from apps.kernel import db
    from apps.kernel.cache import close_redis

    async def main() -> T:
        try:
            return await factory()
        finally:
            await close_redis()
            await db.dispose_engines()

    return asyncio.run(main())


@pytest.fixture
def eager_analysis(stack) -> Iterator[None]:
    """Celery runs tasks where they are sent, for this test only (a real broker otherwise)."""
    from apps.kernel.settings import get_settings
    from apps.kernel.tasks import celery_app
    from apps.reviews.tasks import ensure_producer

    ensure_producer(get_settings())
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = saved


@pytest.fixture
def worker_not_started(monkeypatch) -> list[str]:
    """Dispatched analyses are only recorded, as if no worker had picked them up yet."""
    from apps.reviews import tasks

    sent: list[str] = []
    monkeypatch.setattr(tasks, "_run_or_send", lambda review_id, embedded: sent.append(review_id))
    return sent


def run_analysis(review_id: str) -> str:
    """What a worker does with the message: the task function, in this process."""
    from apps.kernel import db
    from apps.kernel.cache import close_redis
    from apps.kernel.tasks import run_async
    from apps.reviews.tasks import analyse_review

    try:
        return analyse_review(review_id)
    finally:
        run_async(close_redis())
        run_async(db.dispose_engines())
