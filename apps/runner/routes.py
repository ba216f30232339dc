"""The runner API at /runner/executions: my executions only; anyone else's is a 404."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.di import Provide
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.identity import CurrentUser, requires_user
from apps.kernel.tasks import celery_app
from apps.runner.config import RunnerConfig
from apps.runner.schemas import ExecutionCreate, ExecutionQueued, ExecutionRead
from apps.runner.services import ExecutionService, execution_read

_eager_pool: ThreadPoolExecutor | None = None
_eager_lock = threading.Lock()


def _eager_executor() -> ThreadPoolExecutor:
    """Eager mode's stand-in for a worker: at most `concurrency` executions at once."""
    global _eager_pool
    with _eager_lock:
        if _eager_pool is None:
            _eager_pool = ThreadPoolExecutor(
                max_workers=RunnerConfig.from_env().concurrency, thread_name_prefix="runner"
            )
        return _eager_pool


async def dispatch(execution_id: UUID) -> None:
    """Queue the execution's task; eager (tests, embedded) runs it on a bounded local pool."""
    from apps.runner.tasks import execute

    if celery_app.conf.task_always_eager:
        _eager_executor().submit(execute.apply, args=(str(execution_id),))
    else:
        await asyncio.to_thread(execute.delay, str(execution_id))


async def provide_executions(db_session: AsyncSession) -> ExecutionService:
    return ExecutionService(db_session)


class ExecutionController(Controller):
    """Programs run in a sandbox (brief #15): submit, follow, cancel."""

    path = "/executions"
    guards = [requires_user]
    dependencies = {"executions": Provide(provide_executions)}

    @post("/", operation_id="SubmitExecution", status_code=202)
    async def submit(
        self,
        request: Request[CurrentUser, Token, Any],
        data: ExecutionCreate,
        executions: ExecutionService,
        db_session: AsyncSession,
    ) -> ExecutionQueued:
        """Queue a program; 503 saying why when no sandbox can run it here."""
        execution, position = await executions.submit(request.user.id, data)
        await db_session.commit()
        await dispatch(execution.id)
        return ExecutionQueued(id=execution.id, status="queued", queue_position=position)

    @get("/{execution_id:uuid}", operation_id="GetExecution")
    async def get_execution(
        self,
        request: Request[CurrentUser, Token, Any],
        executions: ExecutionService,
        execution_id: UUID,
    ) -> ExecutionRead:
        """Status, the line running now, and when done the outcome and which limit was hit."""
        return execution_read(await executions.get(request.user.id, execution_id))

    @delete("/{execution_id:uuid}", operation_id="CancelExecution", status_code=202)
    async def cancel(
        self,
        request: Request[CurrentUser, Token, Any],
        executions: ExecutionService,
        execution_id: UUID,
    ) -> ExecutionRead:
        """Cancel: a queued execution is killed now, a running one within 0.1 s."""
        return execution_read(await executions.cancel(request.user.id, execution_id))
