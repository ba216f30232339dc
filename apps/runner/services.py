"""The runner's domain logic: submit, read, cancel, and the worker's side of a run."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.errors import Invalid, NotFound, ServiceUnavailable
from apps.runner.limits import DEFAULT_LIMITS, Limits
from apps.runner.models import Execution
from apps.runner.sandbox import SandboxResult, SandboxUnavailable, select_sandbox
from apps.runner.schemas import (
    MAX_SOURCE_BYTES,
    MAX_STDIN_BYTES,
    ExecutionCreate,
    ExecutionRead,
    LimitsIn,
)

FINAL_STATUSES = frozenset({"finished", "failed", "killed"})


def utcnow() -> datetime:
    return datetime.now(UTC)


def limits_of(data: LimitsIn | None) -> Limits:
    if data is None:
        return DEFAULT_LIMITS
    return Limits(
        cpu_time_s=data.cpu_time_s,
        wall_time_s=data.wall_time_s,
        memory_bytes=data.memory_bytes,
        processes=data.processes,
        file_size_bytes=data.file_size_bytes,
        output_bytes=data.output_bytes,
    )


def stored_output(raw: bytes) -> str:
    """Program output as text every database stores: UTF-8 with NUL replaced."""
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def execution_read(execution: Execution, now: datetime | None = None) -> ExecutionRead:
    running_for = None
    if execution.started_at is not None:
        end = execution.finished_at or now or utcnow()
        running_for = round(max(0.0, (end - execution.started_at).total_seconds()), 3)
    return ExecutionRead(
        id=execution.id,
        language=execution.language,
        status=execution.status,  # type: ignore[arg-type]
        started_at=execution.started_at,
        running_for_s=running_for,
        current_line=execution.current_line if execution.status == "running" else None,
        exit_code=execution.exit_code,
        signal=execution.signal,
        stdout=execution.stdout,
        stderr=execution.stderr,
        truncated=execution.truncated,
        cpu_time_s=execution.cpu_time_s,
        wall_time_s=execution.wall_time_s,
        peak_memory_bytes=execution.peak_memory_bytes,
        limit_hit=execution.limit_hit,
        error=execution.error,
        limits=dict(execution.limits),
        created_at=execution.created_at,
        finished_at=execution.finished_at,
    )


class ExecutionService:
    """Executions of one user; another user's execution does not exist for them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def submit(self, owner_id: UUID, data: ExecutionCreate) -> tuple[Execution, int]:
        """Queue a program; refuses with 503 when no sandbox can run it on this machine."""
        if len(data.source.encode()) > MAX_SOURCE_BYTES:
            raise Invalid("source", f"The source is over {MAX_SOURCE_BYTES} bytes in UTF-8")
        if len(data.stdin.encode()) > MAX_STDIN_BYTES:
            raise Invalid("stdin", f"The input is over {MAX_STDIN_BYTES} bytes in UTF-8")
        try:
            # The first call probes the sandbox (one short run): keep it off the event loop.
            sandbox = await asyncio.to_thread(select_sandbox)
        except SandboxUnavailable as exc:
            raise ServiceUnavailable(f"No sandbox is available: {exc}", retry_after=60) from exc
        reason = sandbox.unsupported(data.language)
        if reason:
            raise ServiceUnavailable(f"{data.language} cannot run here: {reason}", retry_after=60)
        execution = Execution(
            owner_id=owner_id,
            language=data.language,
            source=data.source,
            stdin=data.stdin,
            limits=dataclasses.asdict(limits_of(data.limits)),
            status="queued",
        )
        self.session.add(execution)
        await self.session.flush()
        return execution, await self.queue_position(execution)

    async def queue_position(self, execution: Execution) -> int:
        query = select(func.count()).where(
            Execution.status == "queued", Execution.created_at < execution.created_at
        )
        return int(await self.session.scalar(query) or 0)

    async def get(self, owner_id: UUID, execution_id: UUID) -> Execution:
        execution = await self.session.get(Execution, execution_id, populate_existing=True)
        if execution is None or execution.owner_id != owner_id:
            raise NotFound(f"No execution {execution_id}", field="execution_id")
        return execution

    async def cancel(self, owner_id: UUID, execution_id: UUID) -> Execution:
        """Queued: killed at once. Running: the worker kills it within a progress interval."""
        execution = await self.get(owner_id, execution_id)
        if execution.status == "queued":
            execution.status = "killed"
            execution.cancel_requested = True
            execution.finished_at = utcnow()
            execution.error = "cancelled before it started"
        elif execution.status == "running":
            execution.cancel_requested = True
        await self.session.flush()
        return execution


# ---- the worker's side ---------------------------------------------------------------------


async def claim(session: AsyncSession, execution_id: UUID) -> Execution | None:
    """Mark a queued execution running; None if there is nothing to run (done or cancelled).

    A row still `running` belongs to a worker that crashed (tasks are acknowledged late):
    it runs again from the start.
    """
    execution = await session.get(Execution, execution_id, with_for_update=True)
    if execution is None or execution.status in FINAL_STATUSES:
        return None
    if execution.cancel_requested:
        execution.status, execution.finished_at = "killed", utcnow()
        execution.error = "cancelled before it started"
        return None
    execution.status = "running"
    execution.started_at = utcnow()
    execution.current_line = None
    execution.stdout = execution.stderr = ""
    await session.flush()
    return execution


async def record_progress(
    session: AsyncSession, execution_id: UUID, line: int | None, stdout: bytes, stderr: bytes
) -> bool:
    """Store the live line and output so far; True if the owner asked to cancel."""
    execution = await session.get(Execution, execution_id, populate_existing=True)
    if execution is None:
        return True
    execution.current_line = line
    execution.stdout = stored_output(stdout)
    execution.stderr = stored_output(stderr)
    await session.flush()
    return execution.cancel_requested


async def record_result(
    session: AsyncSession, execution_id: UUID, result: SandboxResult, sandbox: str
) -> None:
    execution = await session.get(Execution, execution_id, populate_existing=True)
    if execution is None:
        return
    values: dict[str, Any] = {
        "exit_code": result.exit_code,
        "signal": result.signal,
        "stdout": stored_output(result.stdout),
        "stderr": stored_output(result.stderr),
        "truncated": result.truncated,
        "cpu_time_s": result.cpu_time_s,
        "wall_time_s": result.wall_time_s,
        "peak_memory_bytes": result.peak_memory_bytes,
        "limit_hit": result.limit_hit,
        "current_line": result.last_line,
        "sandbox": sandbox,
        "finished_at": utcnow(),
    }
    for key, value in values.items():
        setattr(execution, key, value)
    if result.cancelled:
        execution.status, execution.error = "killed", "cancelled by its owner"
    elif result.exit_code is None and result.signal is None:
        execution.status, execution.error = "failed", "; ".join(result.notes)[:500] or None
    elif result.signal is not None:
        execution.status = "killed"
    else:
        execution.status = "finished"
    await session.flush()


async def record_failure(session: AsyncSession, execution_id: UUID, reason: str) -> None:
    execution = await session.get(Execution, execution_id, populate_existing=True)
    if execution is not None:
        execution.status, execution.error = "failed", reason[:500]
        execution.finished_at = utcnow()
        await session.flush()
