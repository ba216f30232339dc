"""The Celery app of the platform.

With CELERY_BROKER_URL set, a real broker (Redis on a database separate from the cache, or
RabbitMQ). In the embedded default, a filesystem transport under the data dir, and `serve`
starts a worker and beat as child processes, so a task is pending before it runs, exactly as
in production. Eager mode is only for unit tests that ask for it.

Tasks are idempotent and acknowledged late: a crashed worker's task runs again.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from celery import Celery

from apps.kernel.settings import Settings, get_settings

T = TypeVar("T")

celery_app = Celery("stackyard")


def _embedded_folders(data_dir: Path) -> dict[str, Path]:
    root = data_dir / "celery"
    folders = {
        "queue": root / "queue",
        "processed": root / "processed",
        "results": root / "results",
        "control": root / "control",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for these settings (broker, results, reliability options)."""
    config: dict[str, Any] = {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "result_expires": 24 * 3600,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "task_always_eager": False,
        "task_eager_propagates": True,
    }
    if settings.celery_broker_url:
        config["broker_url"] = settings.celery_broker_url
        if settings.celery_broker_url.startswith("redis"):
            # Longer than any ETA we schedule, so delayed tasks are not redelivered twice.
            config["broker_transport_options"] = {"visibility_timeout": 6 * 3600}
        config["result_backend"] = settings.celery_result_backend or (
            settings.celery_broker_url
            if settings.celery_broker_url.startswith("redis")
            else "rpc://"
        )
    else:
        folders = _embedded_folders(settings.data_dir)
        config["broker_url"] = "filesystem://"
        config["broker_transport_options"] = {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "store_processed": False,
            # Without it kombu writes its exchange table to ./control in the working directory.
            "control_folder": str(folders["control"]),
        }
        config["result_backend"] = settings.celery_result_backend or f"file://{folders['results']}"
    return config


def configure(settings: Settings | None = None) -> Celery:
    """Point the Celery app at the configured broker and discover every app's tasks."""
    celery_app.conf.update(celery_config(settings or get_settings()))
    _discover_app_tasks()
    return celery_app


def _discover_app_tasks() -> None:
    from apps.kernel.db import APPS_DIR, app_packages

    importlib.import_module("apps.kernel.jobs")
    for name in app_packages():
        if (APPS_DIR / name / "tasks.py").exists():
            importlib.import_module(f"apps.{name}.tasks")


_loop_local = threading.local()


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from a task on this worker thread's own long-lived event loop."""
    loop: asyncio.AbstractEventLoop | None = getattr(_loop_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _loop_local.loop = loop
    return loop.run_until_complete(coroutine)
