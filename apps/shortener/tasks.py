"""Celery tasks of the shortener: beat moves the buffered visits from Redis to the database.

Idempotent: a batch is taken from Redis whole and recorded in the database with its counts,
so a flush that crashes and runs again never counts a visit twice.
"""

from __future__ import annotations

from apps.kernel import db
from apps.kernel.cache import get_redis
from apps.kernel.tasks import celery_app, run_async
from apps.shortener.settings import flush_interval
from apps.shortener.visits import flush_buffer

FLUSH_TASK = "shortener.flush_visits"


@celery_app.task(name=FLUSH_TASK, acks_late=True, ignore_result=True)
def flush_visits() -> int:
    """Write the visits buffered in Redis to the counters; returns the batches written."""
    return run_async(_flush())


async def _flush() -> int:
    # The Redis client belongs to the worker's event loop, so it is taken inside it.
    return await flush_buffer(get_redis(), db.session)


celery_app.conf.beat_schedule = {
    **(celery_app.conf.beat_schedule or {}),
    "shortener-flush-visits": {
        "task": FLUSH_TASK,
        "schedule": float(flush_interval()),
        "options": {"expires": 60},
    },
}
