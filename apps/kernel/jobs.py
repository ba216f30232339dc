"""Kernel-wide Celery tasks."""

from __future__ import annotations

from datetime import UTC, datetime

from apps.kernel.tasks import celery_app


@celery_app.task(name="kernel.echo")
def echo(value: str) -> dict[str, str]:
    """Return its argument with the time it ran: a probe that the worker pipeline works."""
    return {"value": value, "ran_at": datetime.now(UTC).isoformat()}
