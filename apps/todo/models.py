"""Todo tables: one row per task, always read through its owner."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from apps.kernel.db import Base


class Task(Base):
    """A task of one user; `priority` is stored as its rank (1 low .. 4 urgent) so it sorts."""

    __tablename__ = "todo_task"
    __table_args__ = (
        Index("ix_todo_task_owner_status", "owner_id", "status"),
        Index("ix_todo_task_owner_due_at", "owner_id", "due_at"),
        Index("ix_todo_task_owner_created_at", "owner_id", "created_at"),
    )

    owner_id: Mapped[UUID]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(20), default="todo")
    priority: Mapped[int] = mapped_column(SmallInteger, default=2)
    due_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    done_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
