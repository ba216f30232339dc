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
def test_a_worker_process_analyses_the_review_and_ranks_the_restaurant(
    client, admin, user, stack, worker_not_started
):
    if not stack.real:
        pytest.skip("on the embedded defaults Redis is in-process, so analysis runs in the server")
    from celery import Celery

    from apps.kernel.settings import load_settings
    from apps.kernel.tasks import celery_config
    from apps.reviews.tasks import ANALYSE_TASK

    restaurant = add_restaurant(client, admin)
    review(client, user, restaurant["id"], "Excellent service and a superb tasting menu.")
    [review_id] = worker_not_started
    # What the route's `.delay()` sends, on a producer of this stack's broker of its own
    # (the shared Celery app may still hold a connection to another stack's broker).
    producer = Celery("reviews-test", config_source=celery_config(load_settings()))
    producer.send_task(ANALYSE_TASK, args=[review_id])
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
