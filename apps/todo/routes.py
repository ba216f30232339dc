"""The todo API at /todo/tasks: my tasks only; anyone else's task is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.fields import NO_NUL
from apps.kernel.identity import CurrentUser, requires_user
from apps.kernel.pagination import MAX_PAGE_SIZE, Page, make_page
from apps.todo.models import Task
from apps.todo.schemas import (
    BulkStatusChange,
    BulkStatusResult,
    TaskCreate,
    TaskRead,
    TaskStatus,
    TaskUpdate,
)
from apps.todo.services import SORT_COLUMNS, TaskFilters, TaskService, priority_name

SORT_HELP = (
    "Comma-separated keys among "
    + ", ".join(SORT_COLUMNS)
    + "; prefix '-' for descending (e.g. `due_at,-priority`). Tasks without a due date sort "
    "last. Default `-created_at`."
)


async def provide_tasks(db_session: AsyncSession) -> TaskService:
    return TaskService(db_session)


def task_read(task: Task) -> TaskRead:
    return TaskRead(
        id=task.id,
        title=task.title,
        description=task.description,
        status=task.status,  # type: ignore[arg-type]
        priority=priority_name(task.priority),  # type: ignore[arg-type]
        due_at=task.due_at,
        done_at=task.done_at,
        created_at=task.created_at,
        updated_at=task.updated_at,
    )


class TaskController(Controller):
    """My tasks (brief #2): CRUD, filters, sorting, pagination and bulk status changes."""

    path = "/tasks"
    guards = [requires_user]
    dependencies = {"tasks": Provide(provide_tasks)}

    @post("/", operation_id="CreateTask", status_code=201)
    async def create_task(
        self, request: Request[CurrentUser, Token, Any], data: TaskCreate, tasks: TaskService
    ) -> TaskRead:
        """Add a task; creating it as `done` stamps `done_at`."""
        return task_read(await tasks.create(request.user.id, data))

    @get("/", operation_id="ListTasks")
    async def list_tasks(
        self,
        request: Request[CurrentUser, Token, Any],
        tasks: TaskService,
        status: list[TaskStatus] | None = Parameter(
            default=None, description="Keep tasks in any of these statuses (repeatable)"
        ),
        due_before: datetime | None = Parameter(
            default=None, description="Keep tasks due strictly before this moment"
        ),
        due_after: datetime | None = Parameter(
            default=None, description="Keep tasks due at or after this moment"
        ),
        q: str | None = Parameter(
            default=None,
            max_length=200,
            pattern=NO_NUL,
            description="Case-insensitive text to find in the title or description",
        ),
        sort: str | None = Parameter(
            default=None, max_length=200, pattern=NO_NUL, description=SORT_HELP
        ),
        page: int = Parameter(default=1, ge=1, le=1_000_000),
        page_size: int = Parameter(default=20, ge=1, le=MAX_PAGE_SIZE),
    ) -> Page[TaskRead]:
        """My tasks, filtered, sorted and paginated."""
        filters = TaskFilters(
            statuses=status or (),
            due_before=due_before,
            due_after=due_after,
            q=q,
            sort=sort,
        )
        rows, total = await tasks.list_tasks(
            request.user.id, filters, page=page, page_size=page_size
        )
        return make_page(
            request, [task_read(t) for t in rows], total=total, page=page, page_size=page_size
        )

    @post("/bulk", operation_id="BulkSetTaskStatus", status_code=200)
    async def bulk_set_status(
        self,
        request: Request[CurrentUser, Token, Any],
        data: BulkStatusChange,
        tasks: TaskService,
    ) -> BulkStatusResult:
        """Set the status of many of my tasks atomically; an unknown id is a 404 naming it."""
        changed = await tasks.set_status_many(request.user.id, data.ids, data.status)
        return BulkStatusResult(updated=len(changed), items=[task_read(t) for t in changed])

    @get("/{task_id:uuid}", operation_id="GetTask")
    async def get_task(
        self, request: Request[CurrentUser, Token, Any], tasks: TaskService, task_id: UUID
    ) -> TaskRead:
        """One of my tasks."""
        return task_read(await tasks.get(request.user.id, task_id))

    @patch("/{task_id:uuid}", operation_id="UpdateTask")
    async def update_task(
        self,
        request: Request[CurrentUser, Token, Any],
        tasks: TaskService,
        task_id: UUID,
        data: TaskUpdate,
    ) -> TaskRead:
        """Change only the fields sent; null clears `description` or `due_at`."""
        return task_read(await tasks.update(request.user.id, task_id, data))

    @delete("/{task_id:uuid}", operation_id="DeleteTask", status_code=HTTP_204_NO_CONTENT)
    async def delete_task(
        self, request: Request[CurrentUser, Token, Any], tasks: TaskService, task_id: UUID
    ) -> None:
        """Delete one of my tasks."""
        await tasks.delete(request.user.id, task_id)
