"""Celery tasks of the reviews app: the sentiment analysis of one review.

The route hands a review to `dispatch_analysis` after its transaction has committed. With a
Redis server configured the task goes to the broker and a worker runs it; on the embedded
defaults Redis is a fake inside the server process that a worker process could not reach, so
the same task runs eagerly (`apply`) in this process, in a thread with its own event loop.
Acknowledged late and idempotent (`record_sentiment` reads the text again), so a task
repeated after a crash stores the same result.
"""

from __future__ import annotations

import logging
from functools import partial
from uuid import UUID

import anyio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

from apps.kernel import db
from apps.kernel.cache import get_redis
from apps.kernel.settings import Settings, get_settings
from apps.kernel.tasks import celery_app, configure, run_async
from apps.reviews.services import record_sentiment

ANALYSE_TASK = "reviews.analyse_review"

logger = logging.getLogger("stackyard.reviews")


async def _analyse(review_id: UUID) -> str:
    return await record_sentiment(review_id, get_redis(), db.session)


@celery_app.task(
    name=ANALYSE_TASK,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(LockError, RedisConnectionError, RedisTimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def analyse_review(review_id: str) -> str:
    """Store the sentiment of review `review_id` and re-rank its restaurant; returns the label."""
    return run_async(_analyse(UUID(review_id)))


def ensure_producer(settings: Settings) -> None:
    """Point the Celery app at the broker once: the server process never ran `configure()`."""
    if not celery_app.conf.broker_url:
        configure(settings)


def _run_or_send(review_id: str, embedded: bool) -> None:
    if embedded:
        analyse_review.apply(args=[review_id], throw=True)
    else:
        analyse_review.delay(review_id)


async def dispatch_analysis(review_id: UUID) -> None:
    """Run (embedded) or enqueue (real broker) the analysis; a failure leaves it pending.

    `stackyard reviews rebuild` analyses whatever a lost task left pending.
    """
    settings = get_settings()
    try:
        if not settings.embedded:
            ensure_producer(settings)
        await anyio.to_thread.run_sync(partial(_run_or_send, str(review_id), settings.embedded))
    except Exception:
        logger.exception(
            "sentiment analysis of review %s not dispatched; it stays pending", review_id
        )
