"""Resource limits of one execution: defaults and caps like Judge0's."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one execution may use; the sandbox enforces every field."""

    cpu_time_s: float = 5.0
    wall_time_s: float = 10.0
    memory_bytes: int = 128 * MIB
    processes: int = 60
    file_size_bytes: int = 1 * MIB
    output_bytes: int = 1 * MIB
    open_files: int = 64


DEFAULT_LIMITS = Limits()
MAX_LIMITS = Limits(
    cpu_time_s=15.0,
    wall_time_s=20.0,
    memory_bytes=512 * MIB,
    processes=60,
    file_size_bytes=1 * MIB,
    output_bytes=1 * MIB,
    open_files=64,
)
