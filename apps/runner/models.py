"""Runner tables: one row per execution, always read through its owner."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from apps.kernel.db import Base


class Execution(Base):
    """A program submitted to run; the worker fills in progress and the outcome."""

    __tablename__ = "runner_execution"
    __table_args__ = (
        Index("ix_runner_execution_owner_created_at", "owner_id", "created_at"),
        Index("ix_runner_execution_status_created_at", "status", "created_at"),
    )

    owner_id: Mapped[UUID]
    language: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(Text)
    stdin: Mapped[str] = mapped_column(Text, default="")
    limits: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    current_line: Mapped[int | None] = mapped_column(Integer, default=None)
    exit_code: Mapped[int | None] = mapped_column(Integer, default=None)
    signal: Mapped[int | None] = mapped_column(Integer, default=None)
    stdout: Mapped[str] = mapped_column(Text, default="")
    stderr: Mapped[str] = mapped_column(Text, default="")
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    cpu_time_s: Mapped[float | None] = mapped_column(Float, default=None)
    wall_time_s: Mapped[float | None] = mapped_column(Float, default=None)
    peak_memory_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    limit_hit: Mapped[str | None] = mapped_column(String(20), default=None)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    sandbox: Mapped[str | None] = mapped_column(String(20), default=None)
