"""Request and response shapes of the todo API.

`priority` is one of `low`, `medium`, `high`, `urgent` (in that order when sorting).
PATCH bodies tell an absent field (left as it is) from an explicit null (cleared) with
`msgspec.UNSET`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from apps.kernel.fields import stored_text

TaskStatus = Literal["todo", "in_progress", "done"]
Priority = Literal["low", "medium", "high", "urgent"]
PriorityField = Annotated[
    Priority,
    msgspec.Meta(description="low < medium < high < urgent; `sort=-priority` puts urgent first"),
]

Title = Annotated[str, stored_text(200, min_length=1, description="What is to be done")]
Description = Annotated[str, stored_text(10_000)]
DueAt = Annotated[
    datetime,
    msgspec.Meta(tz=True, description="An RFC 3339 timestamp with a time zone offset"),
]
MAX_BULK = 500


class TaskCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    description: Description | None = None
    status: TaskStatus = "todo"
    priority: PriorityField = "medium"
    due_at: DueAt | None = None


class TaskUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields present change; null clears `description` and `due_at`."""

    title: Title | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    status: TaskStatus | UnsetType = UNSET
    priority: PriorityField | UnsetType = UNSET
    due_at: DueAt | UnsetType | None = UNSET


class BulkStatusChange(msgspec.Struct, forbid_unknown_fields=True):
    """Set the status of many of my tasks at once: all of them change, or none."""

    ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=MAX_BULK)]
    status: TaskStatus


class TaskRead(msgspec.Struct):
    id: UUID
    title: str
    description: str | None
    status: TaskStatus
    priority: PriorityField
    due_at: datetime | None
    done_at: datetime | None
    """When the task last became done; null while it is not done."""
    created_at: datetime
    updated_at: datetime


class BulkStatusResult(msgspec.Struct):
    updated: int
    items: list[TaskRead]
