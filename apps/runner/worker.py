"""One execution from claim to result: the sandbox runs in a thread, progress goes to the row.

While the program runs, every PROGRESS_INTERVAL_S the current line and the output so far are
written to the execution's row (the GET and the WebSocket read it there, from any process),
and a cancel requested by the owner is picked up and passed to the sandbox.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from uuid import UUID

from apps.kernel import db
from apps.runner import services
from apps.runner.limits import Limits
from apps.runner.sandbox import SandboxEvents, SandboxRequest, SandboxUnavailable, select_sandbox

logger = logging.getLogger("stackyard.runner")


def progress_interval() -> float:
    return float(os.environ.get("RUNNER_PROGRESS_INTERVAL_S", "0.1"))


class Progress(SandboxEvents):
    """What the sandbox reported so far; written by its thread, read by the event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current_line: int | None = None
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.version = 0

    def output(self, stream: str, chunk: bytes) -> None:
        with self._lock:
            (self.stdout if stream == "stdout" else self.stderr).extend(chunk)
            self.version += 1

    def line(self, number: int) -> None:
        with self._lock:
            self.current_line = number
            self.version += 1

    def snapshot(self) -> tuple[int, int | None, bytes, bytes]:
        with self._lock:
            return self.version, self.current_line, bytes(self.stdout), bytes(self.stderr)


async def run_execution(execution_id: UUID) -> str:
    """Run one queued execution to its end; the final status (or `skipped`)."""
    async with db.session() as session:
        execution = await services.claim(session, execution_id)
        if execution is None:
            return "skipped"
        request = SandboxRequest(
            language=execution.language,
            source=execution.source,
            stdin=execution.stdin,
            limits=Limits(**execution.limits),
        )
    try:
        sandbox = await asyncio.to_thread(select_sandbox)
    except SandboxUnavailable as exc:
        async with db.session() as session:
            await services.record_failure(session, execution_id, f"no sandbox: {exc}")
        return "failed"
    progress, cancel = Progress(), threading.Event()
    loop = asyncio.get_running_loop()
    running = loop.run_in_executor(None, sandbox.run, request, progress, cancel)
    while not running.done():
        await asyncio.wait({running}, timeout=progress_interval())
        if running.done():
            break
        _, line, stdout, stderr = progress.snapshot()
        async with db.session() as session:
            if await services.record_progress(session, execution_id, line, stdout, stderr):
                cancel.set()
    try:
        result = running.result()
    except Exception as exc:
        logger.exception("sandbox failed on execution %s", execution_id)
        async with db.session() as session:
            await services.record_failure(session, execution_id, f"sandbox error: {exc}")
        return "failed"
    async with db.session() as session:
        await services.record_result(session, execution_id, result, sandbox.name)
    return "done"
