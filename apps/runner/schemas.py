"""Request and response shapes of the runner API.

Limits default and cap like Judge0's: CPU 5 s (max 15), wall 10 s (max 20), memory 128 MiB
(max 512), 60 processes, 1 MiB of written files, 1 MiB of captured output per stream.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from apps.kernel.fields import stored_text
from apps.runner.limits import DEFAULT_LIMITS, MAX_LIMITS, MIB

MAX_SOURCE_BYTES = 64 * 1024
MAX_STDIN_BYTES = 64 * 1024

Status = Literal["queued", "running", "finished", "failed", "killed"]
Language = Literal["python", "javascript"]


class LimitsIn(msgspec.Struct, forbid_unknown_fields=True):
    """Any limit left out takes its default; none may exceed its cap."""

    cpu_time_s: Annotated[float, msgspec.Meta(gt=0, le=MAX_LIMITS.cpu_time_s)] = (
        DEFAULT_LIMITS.cpu_time_s
    )
    wall_time_s: Annotated[float, msgspec.Meta(gt=0, le=MAX_LIMITS.wall_time_s)] = (
        DEFAULT_LIMITS.wall_time_s
    )
    memory_bytes: Annotated[int, msgspec.Meta(ge=32 * MIB, le=MAX_LIMITS.memory_bytes)] = (
        DEFAULT_LIMITS.memory_bytes
    )
    processes: Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMITS.processes)] = (
        DEFAULT_LIMITS.processes
    )
    file_size_bytes: Annotated[int, msgspec.Meta(ge=0, le=MAX_LIMITS.file_size_bytes)] = (
        DEFAULT_LIMITS.file_size_bytes
    )
    output_bytes: Annotated[int, msgspec.Meta(ge=1024, le=MAX_LIMITS.output_bytes)] = (
        DEFAULT_LIMITS.output_bytes
    )


class ExecutionCreate(msgspec.Struct, forbid_unknown_fields=True):
    language: Annotated[
        Language,
        msgspec.Meta(
            description="`python`, or `javascript` (node) where each sandbox gets a memory "
            "cgroup (503 elsewhere); `current_line` is reported for Python only"
        ),
    ]
    source: Annotated[str, stored_text(MAX_SOURCE_BYTES, min_length=1)]
    stdin: Annotated[str, stored_text(MAX_STDIN_BYTES)] = ""
    limits: LimitsIn | None = None


class ExecutionQueued(msgspec.Struct):
    id: UUID
    status: Status
    queue_position: int
    """Executions queued before this one (0: it starts as soon as a sandbox is free)."""


class ExecutionRead(msgspec.Struct):
    id: UUID
    language: str
    status: Status
    started_at: datetime | None
    running_for_s: float | None
    current_line: int | None
    exit_code: int | None
    signal: int | None
    stdout: str
    stderr: str
    truncated: bool
    cpu_time_s: float | None
    wall_time_s: float | None
    peak_memory_bytes: int | None
    limit_hit: str | None
    error: str | None
    limits: dict[str, float]
    created_at: datetime
    finished_at: datetime | None
