"""Todo domain logic: a user's tasks, their status lifecycle, filters and bulk changes.

Every query is scoped by owner, so another user's task is indistinguishable from a missing
one (404, never 403). No HTTP objects here; the caller owns the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args
from uuid import UUID

from msgspec import UNSET
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.errors import Invalid, NotFound
from apps.kernel.fields import ensure_storable
from apps.todo.models import Task
from apps.todo.schemas import Priority, TaskCreate, TaskStatus, TaskUpdate

PRIORITIES: tuple[str, ...] = get_args(Priority)
"""Priority names in rank order: stored as 1 (low) .. 4 (urgent)."""

SORT_COLUMNS: dict[str, Any] = {
    "created_at": Task.created_at,
    "updated_at": Task.updated_at,
    "due_at": Task.due_at,
    "priority": Task.priority,
    "title": Task.title,
    "status": Task.status,
}
DEFAULT_SORT = "-created_at"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """Due dates are kept and answered in UTC, whatever offset they were sent with."""
    return moment.astimezone(UTC) if moment is not None else None


def priority_rank(name: str) -> int:
    return PRIORITIES.index(name) + 1


def priority_name(rank: int) -> str:
    return PRIORITIES[rank - 1]


def parse_sort(raw: str | None) -> list[ColumnElement[Any]]:
    """Turn `due_at,-priority` into ORDER BY terms; empty dates sort last either way.

    The id is always the final key, so pages never repeat or skip a task.
    """
    terms: list[ColumnElement[Any]] = []
    keys = [part.strip() for part in (raw or DEFAULT_SORT).split(",")]
    if not all(keys) or len(keys) > len(SORT_COLUMNS):
        raise Invalid("sort", f"sort is a comma-separated list of {', '.join(SORT_COLUMNS)}")
    for key in keys:
        name = key.removeprefix("-")
        column = SORT_COLUMNS.get(name)
        if column is None:
            allowed = ", ".join(sorted(SORT_COLUMNS))
            raise Invalid("sort", f"cannot sort by {name!r}; choose from {allowed}, '-' for desc")
        if name == "due_at":
            terms.append(column.is_(None))
        terms.append(column.desc() if key.startswith("-") else column.asc())
    terms.append(Task.id.asc())
    return terms


@dataclass(frozen=True)
class TaskFilters:
    statuses: Sequence[TaskStatus] = ()
    due_before: datetime | None = None
    due_after: datetime | None = None
    q: str | None = None
    sort: str | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def apply_status(task: Task, status: str, now: datetime) -> None:
    """Becoming done stamps `done_at`; leaving done clears it; staying done keeps it."""
    if status == "done" and task.status != "done":
        task.done_at = now
    elif status != "done":
        task.done_at = None
    task.status = status


class TaskService:
    """The signed-in user's tasks; the session is owned by the caller."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, owner_id: UUID, data: TaskCreate) -> Task:
        ensure_storable(data.due_at, "due_at")
        task = Task(
            owner_id=owner_id,
            title=data.title,
            description=data.description,
            status="todo",
            priority=priority_rank(data.priority),
            due_at=as_utc(data.due_at),
            done_at=None,
        )
        apply_status(task, data.status, utcnow())
        self.session.add(task)
        await self.session.flush()
        return task

    async def get(self, owner_id: UUID, task_id: UUID) -> Task:
        task = await self.session.scalar(
            select(Task).where(Task.id == task_id, Task.owner_id == owner_id)
        )
        if task is None:
            raise NotFound(f"No task {task_id}", field="task_id")
        return task

    def _filtered(self, owner_id: UUID, filters: TaskFilters) -> Select[Task]:
        query = select(Task).where(Task.owner_id == owner_id)
        if filters.statuses:
            query = query.where(Task.status.in_(set(filters.statuses)))
        if filters.due_before is not None:
            query = query.where(Task.due_at < filters.due_before)
        if filters.due_after is not None:
            query = query.where(Task.due_at >= filters.due_after)
        if filters.q:
            pattern = f"%{_escape_like(filters.q.lower())}%"
            query = query.where(
                or_(
                    func.lower(Task.title).like(pattern, escape="\\"),
                    func.lower(func.coalesce(Task.description, "")).like(pattern, escape="\\"),
                )
            )
        return query

    async def list_tasks(
        self, owner_id: UUID, filters: TaskFilters, *, page: int, page_size: int
    ) -> tuple[list[Task], int]:
        """One page of my tasks matching the filters, and how many match in all."""
        ensure_storable(filters.due_before, "due_before")
        ensure_storable(filters.due_after, "due_after")
        if filters.due_before and filters.due_after and filters.due_after > filters.due_before:
            raise Invalid("due_after", "due_after must not be later than due_before")
        order = parse_sort(filters.sort)
        query = self._filtered(owner_id, filters)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(*order).limit(page_size).offset((page - 1) * page_size)
        )
        return list(rows), int(total or 0)

    async def update(self, owner_id: UUID, task_id: UUID, changes: TaskUpdate) -> Task:
        """Change only the fields the body names; explicit nulls clear nullable fields."""
        task = await self.get(owner_id, task_id)
        if changes.title is not UNSET:
            task.title = changes.title
        if changes.description is not UNSET:
            task.description = changes.description
        if changes.priority is not UNSET:
            task.priority = priority_rank(changes.priority)
        if changes.due_at is not UNSET:
            ensure_storable(changes.due_at, "due_at")
            task.due_at = as_utc(changes.due_at)
        if changes.status is not UNSET:
            apply_status(task, changes.status, utcnow())
        await self.session.flush()
        return task

    async def delete(self, owner_id: UUID, task_id: UUID) -> None:
        task = await self.get(owner_id, task_id)
        await self.session.delete(task)
        await self.session.flush()

    async def set_status_many(
        self, owner_id: UUID, task_ids: Sequence[UUID], status: TaskStatus
    ) -> list[Task]:
        """Set the status of all the given tasks, or of none if any is not mine.

        The rows are locked (Postgres) so a concurrent bulk change cannot interleave.
        """
        wanted = list(dict.fromkeys(task_ids))
        rows = await self.session.scalars(
            select(Task)
            .where(Task.owner_id == owner_id, Task.id.in_(wanted))
            .order_by(Task.id)
            .with_for_update()
        )
        found = {task.id: task for task in rows}
        missing = [str(task_id) for task_id in wanted if task_id not in found]
        if missing:
            raise NotFound(
                f"No task {', '.join(missing)}; nothing was changed",
                field="ids",
                extra={"missing": missing},
            )
        now = utcnow()
        for task in found.values():
            apply_status(task, status, now)
        await self.session.flush()
        return [found[task_id] for task_id in wanted]
