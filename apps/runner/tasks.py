"""Celery task of the runner: one execution per task, idempotent, acknowledged late."""

from __future__ import annotations

from uuid import UUID

from apps.kernel.tasks import celery_app, run_async


@celery_app.task(name="runner.execute", acks_late=True, ignore_result=True)
def execute(execution_id: str) -> str:
    """Run a queued execution; a finished or cancelled one is skipped, so redelivery is safe."""
    from apps.runner.worker import run_execution

    return run_async(run_execution(UUID(execution_id)))
