"""Per-slot cgroup v1 memory, pids and cpuacct groups, where the machine lets us create them.

Each sandbox slot gets `stackyard-runner-<uid>` under this process's own memory cgroup and
under the pids hierarchy; root sets the limits and hands the slot's uid only the right to
join (`cgroup.procs`), which the sandbox's first process does before it execs bubblewrap.
Everything the program starts inherits them. The memory cgroup counts what RLIMIT_AS does
not (files written to the tmpfs work dir) and gives an exact peak; the pids cgroup caps
processes even across uids. Where cgroups cannot be created, rlimits alone apply.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

CGROUP_ROOT = Path("/sys/fs/cgroup")


class MemoryPressure(NamedTuple):
    """What a slot's memory cgroup says of its limit, read at one moment."""

    failures: int
    """Charges refused at the limit so far. Some kernels never count them (6.18 keeps 0
    while a run reclaims its own pages at the limit), so `at_limit` is read as well."""
    faults: int
    """Major page faults so far: pages read back in from their files."""
    at_limit: bool
    """Usage is within 1/64 of the limit (at least 1 MiB)."""


def own_cgroup(controller: str, proc_cgroup: Path = Path("/proc/self/cgroup")) -> str | None:
    """This process's path in a cgroup v1 hierarchy (e.g. `/process_api/abc`)."""
    for row in proc_cgroup.read_text().splitlines():
        _, controllers, path = row.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


@dataclass(frozen=True)
class SlotCgroups:
    memory: Path
    pids: Path
    cpuacct: Path

    @classmethod
    def for_uid(cls, uid: int) -> SlotCgroups:
        name = f"stackyard-runner-{uid}"
        memory_parent = own_cgroup("memory") or "/"
        cpuacct_parent = own_cgroup("cpuacct") or "/"
        return cls(
            memory=CGROUP_ROOT / "memory" / memory_parent.lstrip("/") / name,
            pids=CGROUP_ROOT / "pids" / name,
            cpuacct=CGROUP_ROOT / "cpuacct" / cpuacct_parent.lstrip("/") / name,
        )

    @property
    def join_files(self) -> tuple[Path, ...]:
        return tuple(d / "cgroup.procs" for d in (self.memory, self.pids, self.cpuacct))

    def prepare(self, uid: int, memory_bytes: int, processes: int) -> None:
        """Create (or reuse) the slot's cgroups with these limits; raises OSError if denied."""
        for directory in (self.memory, self.pids, self.cpuacct):
            directory.mkdir(exist_ok=True)
        for join in self.join_files:
            os.chown(join, uid, uid)
        # memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes: lift the
        # latter, set the former, then cap memory + swap at the same value.
        swap = self.memory / "memory.memsw.limit_in_bytes"
        with contextlib.suppress(OSError):  # no swap accounting: nothing to cap there
            swap.write_text("-1")
        (self.memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        with contextlib.suppress(OSError):
            swap.write_text(str(memory_bytes))
        (self.memory / "memory.max_usage_in_bytes").write_text("0")
        (self.memory / "memory.failcnt").write_text("0")
        (self.pids / "pids.max").write_text(str(processes))
        (self.cpuacct / "cpuacct.usage").write_text("0")

    def cpu_seconds(self) -> float:
        """CPU time of every process of the run, exited or killed ones included."""
        return int((self.cpuacct / "cpuacct.usage").read_text()) / 1e9

    def oom_kills(self) -> int:
        for row in (self.memory / "memory.oom_control").read_text().splitlines():
            if row.startswith("oom_kill "):
                return int(row.split()[1])
        return 0

    def memory_pressure(self) -> MemoryPressure:
        """Whether the run is at its memory limit, and its major page faults so far: at the
        limit with faults still rising, it is refaulting the pages reclaim took from it."""
        failures = int((self.memory / "memory.failcnt").read_text())
        limit = int((self.memory / "memory.limit_in_bytes").read_text())
        usage = int((self.memory / "memory.usage_in_bytes").read_text())
        faults = 0
        for row in (self.memory / "memory.stat").read_text().splitlines():
            if row.startswith("pgmajfault "):
                faults = int(row.split()[1])
                break
        return MemoryPressure(failures, faults, usage >= limit - max(limit // 64, 1 << 20))

    def peak_memory(self) -> int:
        return int((self.memory / "memory.max_usage_in_bytes").read_text())

    def processes_refused(self) -> int:
        """How many forks the pids limit refused so far (`pids.events` max)."""
        for row in (self.pids / "pids.events").read_text().splitlines():
            if row.startswith("max "):
                return int(row.split()[1])
        return 0
