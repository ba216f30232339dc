"""The production path: a Celery worker process picks the analysis up and ranks the restaurant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.apps.reviews.conftest import LEADERBOARD, add_restaurant, review, reviews_of


@pytest.mark.slow
def test_a_worker_process_analyses_the_review_and_ranks_the_restaurant(client, admin, user, stack):
    if not stack.real:
        pytest.skip("on the embedded defaults Redis is in-process, so analysis runs in the server")
    from apps.kernel.settings import get_settings
    from apps.kernel.tasks import celery_app, configure

    configure(get_settings())  # publish where a worker of this stack consumes
    assert not celery_app.conf.task_always_eager
    restaurant = add_restaurant(client, admin)
    review(client, user, restaurant["id"], "Excellent service and a superb tasting menu.")
    assert reviews_of(client, restaurant["id"])[0]["sentiment"]["label"] == "pending"

    worker = subprocess.Popen(
        [sys.executable, "-m", "apps.cli", "worker", "--concurrency", "1"],
        env=dict(os.environ, **stack.env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while reviews_of(client, restaurant["id"])[0]["sentiment"]["label"] == "pending":
            assert time.monotonic() < deadline, "the worker did not analyse the review in 60 s"
            assert worker.poll() is None, "the worker exited"
            time.sleep(0.3)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)
    assert reviews_of(client, restaurant["id"])[0]["sentiment"]["label"] == "positive"
    city = client.get(LEADERBOARD, params={"city": restaurant["city"]}).json()["items"]
    assert [item["restaurant_id"] for item in city] == [restaurant["id"]]
