"""Celery tasks of the notifications app: digests of what muted topics and quiet hours held."""

from __future__ import annotations

import logging

from apps.kernel import db
from apps.kernel.realtime import open_hub
from apps.kernel.settings import get_settings
from apps.kernel.tasks import celery_app, run_async
from apps.notifications.feed import announce
from apps.notifications.services import NotificationService, Sent

DIGEST_EVERY_SECONDS = 60.0

logger = logging.getLogger("stackyard.notifications")

celery_app.conf.beat_schedule = {
    **(celery_app.conf.beat_schedule or {}),
    "notifications-send-digests": {
        "task": "notifications.send_digests",
        "schedule": DIGEST_EVERY_SECONDS,
    },
}


async def send_digests() -> list[Sent]:
    """One digest per user whose holds ended; each user's digest commits on its own.

    Safe to run twice at once: a user's holds are locked while summarised, and the digest is
    keyed by the holds it covers.
    """
    async with db.session() as session:
        users = await NotificationService(session).due_digests()
    sent: list[Sent] = []
    for user_id in users:
        async with db.session() as session:
            digest = await NotificationService(session).send_digest(user_id)
        if digest is not None:
            sent.append(digest)
    if sent:
        # Live push; processes whose hub this does not reach find them at their next poll.
        async with open_hub(get_settings().redis_url) as hub:
            for digest in sent:
                await announce(hub, digest)
    return sent


@celery_app.task(name="notifications.send_digests")
def send_digests_task() -> int:
    """Beat, every minute: send the digests that are due; returns how many."""
    try:
        return len(run_async(send_digests()))
    finally:
        run_async(db.dispose_engines())
