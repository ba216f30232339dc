"""The bubblewrap backend: namespaces, read-only binds, seccomp, rlimits and a slot uid each.

Each run takes a slot (a lock file under the data dir, so several worker processes share
them); slot N runs as host uid/gid `uid_base + N`, so RLIMIT_NPROC counts the processes of
that one sandbox. Inside: new user, pid, ipc, uts, net, cgroup and mount namespaces, only
/usr bound (read-only), a fresh /proc of the sandbox's pid namespace, a size-capped tmpfs at
/work, an empty environment but for a safe set, and the seccomp filter of `seccomp_filter`.
The parent enforces the wall time: it kills bwrap's process group, the pid namespace dies
with its init, and any process left with the slot's uid is killed too.

Cgroups (v1 here): where this process may create them, each slot also gets a memory cgroup
(limit = the memory limit; it also counts the tmpfs work dir and gives the exact peak) and
a pids cgroup (see `cgroups`); RLIMIT_AS and RLIMIT_NPROC on the slot uid apply always.
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from apps.runner.config import RunnerConfig
from apps.runner.limits import MIB, Limits
from apps.runner.sandbox.base import (
    SandboxEvents,
    SandboxRequest,
    SandboxResult,
    SandboxUnavailable,
)
from apps.runner.sandbox.cgroups import SlotCgroups
from apps.runner.sandbox.seccomp_filter import compile_filter

TRACER_PATH = Path(__file__).with_name("tracer.py")
CONFINE_SOURCE = Path(__file__).with_name("confine.py").read_text()
SANDBOX_UID = 1000
WORK_DIR_BYTES = 16 * 1024 * 1024
SHM_BYTES = 4 * 1024 * 1024
SAFE_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/work",
    "TMPDIR": "/work",
    "LANG": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONUNBUFFERED": "1",
}
SAMPLE_INTERVAL_S = 0.2
MEMORY_PINNED_S = 1.0
"""A run whose cgroup stays at its memory limit while refaulting pages (major faults)
this long is killed for `memory`: the kernel may reclaim the program's own file pages (the
interpreter's binary) over and over instead of OOM-killing it, and the run would crawl until
its CPU or wall time ran out. Reading files through the page cache at the limit does not
count: reads are not faults."""
MEMORY_GRACE_S = 0.6
"""Both counters need only have risen within this window, not at every sample: on a loaded
machine a thrashing run is descheduled for whole samples and must not restart the clock."""
SUPERVISOR_LIMITS = ("wall_time", "output", "memory")
"""Limits the supervisor enforces itself, by SIGKILL (the others the kernel enforces)."""
RECHECK_AFTER_S = 30.0
"""A failed probe is tried again after this long (the machine may have been fixed)."""
OUTPUT_DRAIN_FACTOR = 16
"""Output past the cap is read and dropped; past this many times the cap, the program is
killed (limit `output`) rather than left to flood until its wall time."""
PROCESS_SLACK = 3
NODE_THREADS = 12
"""node's own threads (libuv pool, V8 platform) count as processes for RLIMIT_NPROC."""
"""bwrap's own processes (outer, the namespace's init) count against the slot's NPROC."""


class SlotPool:
    """At most `size` sandboxes at once on this host, each with its own uid."""

    def __init__(self, directory: Path, size: int, uid_base: int) -> None:
        self.directory = directory
        self.size = size
        self.uid_base = uid_base

    @contextmanager
    def acquire(self, timeout_s: float) -> Iterator[int]:
        self.directory.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout_s
        while True:
            for index in range(self.size):
                handle = open(self.directory / f"slot-{index}.lock", "a+")  # noqa: SIM115
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                try:
                    yield self.uid_base + index
                finally:
                    handle.close()
                return
            if time.monotonic() > deadline:
                raise SandboxUnavailable("every sandbox slot stayed busy; try again shortly")
            time.sleep(0.05)


def uid_processes(uid: int, *, with_zombies: bool = False) -> list[int]:
    """Pids of the processes whose real uid is `uid` (zombies only when asked)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        rows = {k: v.split() for k, _, v in (r.partition(":") for r in status.splitlines())}
        running = with_zombies or rows.get("State", ["?"])[0] != "Z"
        if rows.get("Uid") and int(rows["Uid"][0]) == uid and running:
            found.append(int(entry))
    return found


def kill_uid(uid: int, *, wait_s: float = 2.0) -> int:
    """SIGKILL every process of `uid` until none is left running; the number killed."""
    killed = 0
    deadline = time.monotonic() + wait_s
    while True:
        pids = uid_processes(uid)
        if not pids or time.monotonic() > deadline:
            return killed
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.01)


class UsageSampler:
    """CPU time and peak memory of a slot's processes, sampled from /proc while they run.

    bwrap's outer process does not reap the sandbox's processes, so its rusage misses them;
    the tracer reports exact figures when the program ends normally, these cover a kill.
    """

    def __init__(self, uid: int) -> None:
        self.uid = uid
        self.cpu_by_pid: dict[int, float] = {}
        self.peak_bytes = 0
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        for pid in uid_processes(self.uid):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / self.tick
            self.cpu_by_pid[pid] = max(cpu, self.cpu_by_pid.get(pid, 0.0))
            for row in status.splitlines():
                if row.startswith("VmHWM:"):
                    self.peak_bytes = max(self.peak_bytes, int(row.split()[1]) * 1024)

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu_by_pid.values())


def bwrap_arguments(
    *,
    bwrap: str,
    command: list[str],
    source_fd: int,
    source_path: str,
    tracer_fd: int,
    seccomp_fd: int,
    work_dir_bytes: int = WORK_DIR_BYTES,
) -> list[str]:
    """The bwrap command line: what the sandbox sees, and the program it runs."""
    args = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(SHM_BYTES),
        "--tmpfs", "/dev/shm",  # noqa: S108 - inside the sandbox
        "--size", str(work_dir_bytes),
        "--tmpfs", "/work",
        "--symlink", "/work", "/tmp",  # noqa: S108 - inside the sandbox
        "--file", str(source_fd), source_path,
        "--ro-bind-data", str(tracer_fd), "/sandbox/tracer.py",
        "--chdir", "/work",
        "--clearenv",
    ]  # fmt: skip
    for key, value in SAFE_ENV.items():
        args += ["--setenv", key, value]
    # Only /work and /dev/shm (both size-capped tmpfs) stay writable; bwrap's /dev is an
    # unbounded tmpfs, so it is read-only too (device nodes such as /dev/null still work).
    args += ["--seccomp", str(seccomp_fd), "--remount-ro", "/dev", "--remount-ro", "/"]
    return [*args, "--", *command]


def program_command(
    language: str, config: RunnerConfig, limits: Limits, report_fd: int
) -> tuple[str, list[str]]:
    """Where the source goes inside the sandbox, and the command that runs it."""
    if language == "javascript":
        heap_mib = max(16, limits.memory_bytes * 3 // 4 // MIB)
        return "/work/main.js", [
            config.node,
            f"--max-old-space-size={heap_mib}",
            "--disallow-code-generation-from-strings",
            "/work/main.js",
        ]
    tracer = ["/sandbox/tracer.py", "/work/main.py", str(report_fd)]
    return "/work/main.py", [config.python, "-I", "-B", *tracer]


def confinement(
    limits: Limits, nice: int, cgroups: SlotCgroups | None, language: str
) -> dict[str, object]:
    """What `confine.py` applies to itself (as the slot uid) before it execs bwrap."""
    cpu = max(1, math.ceil(limits.cpu_time_s))
    nproc = limits.processes + PROCESS_SLACK + (NODE_THREADS if language == "javascript" else 0)
    rlimits: list[tuple[str, int, int]] = [
        ("RLIMIT_CPU", cpu, cpu + 1),
        ("RLIMIT_FSIZE", limits.file_size_bytes, limits.file_size_bytes),
        ("RLIMIT_NPROC", nproc, nproc),
        ("RLIMIT_NOFILE", limits.open_files, limits.open_files),
        ("RLIMIT_CORE", 0, 0),
        ("RLIMIT_MEMLOCK", 0, 0),
    ]
    if language != "javascript":
        # V8 reserves far more address space than it uses: node runs only where the memory
        # cgroup caps it (`unsupported`), and without RLIMIT_AS.
        rlimits.append(("RLIMIT_AS", limits.memory_bytes, limits.memory_bytes))
    joins = [str(path) for path in cgroups.join_files] if cgroups is not None else []
    return {"rlimits": rlimits, "join": joins, "nice": nice}


NODE_LIMIT_MARKERS = (
    (b"JavaScript heap out of memory", "memory"),
    (b"code: 'EFBIG'", "file_size"),
    (b"code: 'ENOSPC'", "disk_space"),
    (b"code: 'EAGAIN'", "processes"),
)
"""node has no tracer to report the limit an uncaught error stands for: its stderr does."""


def _usage(value: str) -> tuple[float, int] | None:
    try:
        cpu, peak = value.split()
        return max(0.0, float(cpu)), max(0, int(peak))
    except ValueError:
        return None


def _data_file(content: bytes) -> IO[bytes]:
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - returned open, closed by the caller
    handle.write(content)
    handle.flush()
    handle.seek(0)
    return handle


class BubblewrapSandbox:
    """Runs Python under bubblewrap; see the module docstring for what it enforces."""

    name = "bubblewrap"

    def __init__(self, config: RunnerConfig | None = None) -> None:
        self.config = config or RunnerConfig.from_env()
        self.slots = SlotPool(self.config.slots_dir, self.config.concurrency, self.config.uid_base)
        self._seccomp_bpf: bytes | None = None
        self._checked: str | None = None
        self._recheck_at = 0.0
        self._check_lock = threading.Lock()
        self.cgroups: str | None = None
        """`memory+pids+cpuacct` when each slot gets cgroups, else why not (rlimits only)."""

    def _bpf(self) -> bytes:
        if self._seccomp_bpf is None:
            with compile_filter() as handle:
                self._seccomp_bpf = handle.read()
        return self._seccomp_bpf

    def check(self) -> None:
        with self._check_lock:
            if self._checked == "ok":
                return
            if self._checked is None or time.monotonic() >= self._recheck_at:
                self._checked = self._probe()
                self._recheck_at = time.monotonic() + RECHECK_AFTER_S
            reason = self._checked
        if reason != "ok":
            raise SandboxUnavailable(reason)

    def _probe(self) -> str:
        if shutil.which("bwrap") is None:
            return "bubblewrap (bwrap) is not installed; apt-get install bubblewrap"
        if not Path(self.config.python).is_file():
            return f"no Python interpreter at {self.config.python} (RUNNER_PYTHON)"
        if os.geteuid() != 0:
            return (
                "the bubblewrap backend must start as root to run each sandbox as its own "
                "unprivileged uid (RLIMIT_NPROC counts per uid)"
            )
        try:
            import pyseccomp  # noqa: F401
        except (ImportError, OSError) as exc:
            return f"libseccomp is not usable ({exc}); pip install pyseccomp, apt libseccomp2"
        try:
            SlotCgroups.for_uid(self.config.uid_base).prepare(self.config.uid_base, 1 << 30, 100)
            self.cgroups = "memory+pids+cpuacct"
        except OSError as exc:
            self.cgroups = f"unavailable ({exc.strerror or exc}); rlimits only"
        probe = self.run(SandboxRequest(language="python", source="print('ok')"), probe=True)
        if probe.exit_code != 0 or probe.stdout.strip() != b"ok":
            reason = probe.stderr.decode(errors="replace").strip()[:300]
            return f"bubblewrap cannot create a sandbox here: {reason or probe.notes}"
        return "ok"

    def unsupported(self, language: str) -> str | None:
        """Why this sandbox cannot run `language` here, or None if it can."""
        if language == "python":
            return None
        if language != "javascript":
            return f"no sandbox runs {language!r}"
        if not Path(self.config.node).is_file():
            return f"no node at {self.config.node} (RUNNER_NODE)"
        if self.cgroups != "memory+pids+cpuacct":
            return (
                "javascript runs only where each sandbox gets a memory cgroup (V8 cannot live "
                f"under RLIMIT_AS); cgroups here: {self.cgroups}"
            )
        return None

    def run(
        self,
        request: SandboxRequest,
        events: SandboxEvents | None = None,
        cancel: threading.Event | None = None,
        *,
        probe: bool = False,
    ) -> SandboxResult:
        if not probe:
            self.check()
        reason = self.unsupported(request.language)
        if reason:
            raise SandboxUnavailable(reason)
        events = events or SandboxEvents()
        with self.slots.acquire(self.config.slot_wait_s) as uid:
            kill_uid(uid)
            try:
                return self._run_as(uid, request, events, cancel)
            finally:
                kill_uid(uid)

    def _run_as(
        self,
        uid: int,
        request: SandboxRequest,
        events: SandboxEvents,
        cancel: threading.Event | None,
    ) -> SandboxResult:
        limits = request.limits
        report_read, report_write = os.pipe()
        os.set_blocking(report_read, False)
        files = [
            _data_file(request.source.encode("utf-8", errors="replace")),
            _data_file(TRACER_PATH.read_bytes()),
            _data_file(self._bpf()),
            _data_file(request.stdin.encode("utf-8", errors="replace")),
        ]
        source, tracer, bpf, stdin = files
        source_path, command = program_command(request.language, self.config, limits, report_write)
        args = bwrap_arguments(
            bwrap=shutil.which("bwrap") or "bwrap",
            command=command,
            source_fd=source.fileno(),
            source_path=source_path,
            tracer_fd=tracer.fileno(),
            seccomp_fd=bpf.fileno(),
        )
        language = request.language
        nice = self.config.nice
        cgroups = None
        if self.cgroups == "memory+pids+cpuacct":
            cgroups = SlotCgroups.for_uid(uid)
            threads = NODE_THREADS if request.language == "javascript" else 0
            cgroups.prepare(uid, limits.memory_bytes, limits.processes + PROCESS_SLACK + threads)
            oom_before = cgroups.oom_kills()
        started = time.monotonic()
        try:
            spec = json.dumps(confinement(limits, nice, cgroups, language))
            process = subprocess.Popen(
                [self.config.python, "-I", "-S", "-c", CONFINE_SOURCE, spec, *args],
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(source.fileno(), tracer.fileno(), bpf.fileno(), report_write),
                start_new_session=True,
                user=uid,
                group=uid,
                extra_groups=[],
                cwd="/",
                env={"PATH": "/usr/bin:/bin"},
            )
        except (OSError, subprocess.SubprocessError) as exc:
            os.close(report_read)
            os.close(report_write)
            for handle in files:
                handle.close()
            return SandboxResult(exit_code=None, notes=[f"could not start bwrap: {exc}"])
        os.close(report_write)
        for handle in files:
            handle.close()
        events.started()
        try:
            result = self._supervise(
                process, report_read, uid, limits, events, cancel, started, cgroups
            )
        finally:
            os.close(report_read)
        if cgroups is not None:
            # Exact, and without the shared pages (the interpreter's binary) RSS counts.
            result.peak_memory_bytes = cgroups.peak_memory()
            result.cpu_time_s = round(cgroups.cpu_seconds(), 3)
            if (
                result.limit_hit is None
                and result.signal == signal.SIGKILL
                and (result.cpu_time_s >= limits.cpu_time_s)
            ):
                result.limit_hit = "cpu_time"  # the hard RLIMIT_CPU, one second past the soft
            if cgroups.oom_kills() > oom_before and result.limit_hit in (None, "cpu_time"):
                result.limit_hit = "memory"
        return result

    def _supervise(
        self,
        process: subprocess.Popen[bytes],
        report_read: int,
        uid: int,
        limits: Limits,
        events: SandboxEvents,
        cancel: threading.Event | None,
        started: float,
        cgroups: SlotCgroups | None = None,
    ) -> SandboxResult:
        result = SandboxResult()
        pressure = cgroups.memory_pressure() if cgroups is not None else None
        pinned_since: float | None = None
        limit_hit_at = fault_at = -math.inf  # when last seen at the limit, faulting
        kept = {"stdout": bytearray(), "stderr": bytearray()}
        selector = selectors.DefaultSelector()
        assert process.stdout is not None and process.stderr is not None
        selector.register(process.stdout, selectors.EVENT_READ, "stdout")
        selector.register(process.stderr, selectors.EVENT_READ, "stderr")
        selector.register(report_read, selectors.EVENT_READ, "report")
        deadline = started + limits.wall_time_s
        reported_limit: str | None = None
        report_buffer = b""
        killed_for: str | None = None
        open_streams = 2
        discarded = 0
        sampler = UsageSampler(uid)
        next_sample = 0.0
        reported_usage: tuple[float, int] | None = None
        while open_streams or report_read in selector.get_map():
            now = time.monotonic()
            pinned = False
            if now >= next_sample:
                sampler.sample()
                next_sample = now + SAMPLE_INTERVAL_S
                if cgroups is not None and pressure is not None:
                    seen, pressure = pressure, cgroups.memory_pressure()
                    at_limit = pressure.at_limit or pressure.failures > seen.failures
                    limit_hit_at = now if at_limit else limit_hit_at
                    fault_at = now if pressure.faults > seen.faults else fault_at
                    thrashing = max(now - limit_hit_at, now - fault_at) <= MEMORY_GRACE_S
                    pinned_since = (pinned_since or now) if thrashing else None
                    pinned = pinned_since is not None and now - pinned_since >= MEMORY_PINNED_S
            if killed_for is None:
                if now >= deadline:
                    killed_for = "wall_time"
                elif pinned:
                    killed_for = "memory"
                elif cancel is not None and cancel.is_set():
                    killed_for = "cancelled"
                if killed_for:
                    self._kill(process, uid)
            for key, _ in selector.select(timeout=0.05):
                name = key.data
                fd = key.fd
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    selector.unregister(fd)
                    if name != "report":
                        open_streams -= 1
                    continue
                if name == "report":
                    report_buffer += chunk
                    *rows, report_buffer = report_buffer.split(b"\n")
                    for row in rows[-64:]:
                        kind, _, value = row.decode(errors="replace").partition(" ")
                        if kind == "line" and value.isdigit():
                            result.last_line = int(value)
                            events.line(int(value))
                        elif kind == "limit" and reported_limit is None:
                            reported_limit = value[:32]
                        elif kind == "usage":
                            reported_usage = _usage(value)
                    continue
                room = limits.output_bytes - len(kept[name])
                if room <= 0:
                    result.truncated = True
                    discarded += len(chunk)
                    if discarded > OUTPUT_DRAIN_FACTOR * limits.output_bytes and not killed_for:
                        killed_for = "output"
                        self._kill(process, uid)
                    continue
                if len(chunk) > room:
                    result.truncated = True
                    chunk = chunk[:room]
                kept[name] += chunk
                events.output(name, chunk)
            if killed_for is not None and time.monotonic() > deadline + 5:
                break  # pipes held open by something unkillable: stop waiting for them
        selector.close()
        _, status, _rusage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        result.wall_time_s = round(time.monotonic() - started, 3)
        # bwrap's own rusage is useless here: its maxrss is inherited from this forking
        # process, and it does not reap the sandbox's processes.
        cpu_s, peak = sampler.cpu_s, sampler.peak_bytes
        if reported_usage is not None:
            cpu_s = max(cpu_s, reported_usage[0])
            peak = max(peak, reported_usage[1])
        result.cpu_time_s = round(cpu_s, 3)
        result.peak_memory_bytes = peak
        result.stdout, result.stderr = bytes(kept["stdout"]), bytes(kept["stderr"])
        code = process.returncode
        if code < 0:
            result.signal = -code
        elif code > 128 and killed_for is None:
            result.signal = code - 128  # bwrap reports a child killed by signal N as 128 + N
        else:
            result.exit_code = code
        if killed_for == "cancelled":
            result.cancelled = True
            result.exit_code, result.signal = None, signal.SIGKILL
        elif killed_for in SUPERVISOR_LIMITS:
            result.exit_code, result.signal = None, signal.SIGKILL
        result.limit_hit = self._limit_hit(result, killed_for, reported_limit, limits)
        if result.signal == signal.SIGXCPU:
            # The kernel sends SIGXCPU when the process reaches the soft limit exactly;
            # the last /proc sample may be up to a sampling interval older.
            result.cpu_time_s = max(result.cpu_time_s, float(math.ceil(limits.cpu_time_s)))
        return result

    @staticmethod
    def _limit_hit(
        result: SandboxResult, killed_for: str | None, reported: str | None, limits: Limits
    ) -> str | None:
        if killed_for in SUPERVISOR_LIMITS:
            return killed_for
        if killed_for == "cancelled":
            return None
        # Without cgroups CPU time is sampled from /proc every 0.2 s and can trail the kernel's
        # count; a SIGKILL nobody else sent after half the budget is the hard RLIMIT_CPU.
        if result.signal == signal.SIGXCPU or (
            result.signal == signal.SIGKILL and result.cpu_time_s >= limits.cpu_time_s / 2
        ):
            return "cpu_time"
        if result.signal == signal.SIGXFSZ:
            return "file_size"
        if reported:
            return reported
        for marker, limit in NODE_LIMIT_MARKERS:
            if marker in result.stderr:
                return limit
        if result.truncated:
            return "output"
        return None

    @staticmethod
    def _kill(process: subprocess.Popen[bytes], uid: int) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise
        kill_uid(uid)
