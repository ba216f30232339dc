"""The docker backend: the images of sandbox-images/ under every restriction docker offers.

Used where a Docker engine answers (the sandbox hosts of stacks/). The container gets no
network, a read-only root, a size-capped tmpfs work dir, a non-root user, the pids, memory
and CPU limits of the execution, the project's seccomp profile, no new privileges and no
capabilities. The wall time is enforced by the parent, which kills the container.
"""

from __future__ import annotations

import math
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

from apps.runner.config import RunnerConfig
from apps.runner.limits import Limits
from apps.runner.sandbox.base import (
    SandboxEvents,
    SandboxRequest,
    SandboxResult,
    SandboxUnavailable,
)

SECCOMP_PROFILE = Path(__file__).resolve().parents[3] / "sandbox-images" / "seccomp.json"
IMAGES = {"python": "stackyard/sandbox-python:3.11.7-slim-bookworm"}
SANDBOX_USER = "10001:10001"


def docker_arguments(
    *, docker: str, name: str, image: str, limits: Limits, seccomp_profile: Path
) -> list[str]:
    """`docker run` for one execution: the tracer reads the source from stdin up to a NUL
    byte into /work/main.py, and the rest of stdin is the program's input."""
    cpus = 1
    cpu_seconds = max(1, math.ceil(limits.cpu_time_s))
    return [
        docker, "run", "--rm", "-i",
        "--name", name,
        "--network", "none",
        "--read-only",
        "--tmpfs", "/work:rw,nosuid,nodev,noexec,size=16m,mode=1777",
        "--user", SANDBOX_USER,
        "--pids-limit", str(limits.processes),
        "--memory", str(limits.memory_bytes),
        "--memory-swap", str(limits.memory_bytes),
        "--cpus", str(cpus),
        "--ulimit", f"cpu={cpu_seconds}:{cpu_seconds + 1}",
        "--ulimit", f"fsize={limits.file_size_bytes}:{limits.file_size_bytes}",
        "--ulimit", f"nofile={limits.open_files}:{limits.open_files}",
        "--ulimit", "core=0:0",
        "--security-opt", "no-new-privileges",
        "--security-opt", f"seccomp={seccomp_profile}",
        "--cap-drop", "ALL",
        "--ipc", "none",
        "--env", "HOME=/work",
        "--workdir", "/work",
        image,
        "python3", "-I", "-B", "/sandbox/tracer.py", "-",
    ]  # fmt: skip


class DockerSandbox:
    """Runs the sandbox images through the docker CLI where an engine answers."""

    name = "docker"

    def __init__(self, config: RunnerConfig | None = None) -> None:
        self.config = config or RunnerConfig.from_env()
        self.docker = shutil.which(self.config.docker) or self.config.docker
        self._checked_until = 0.0
        self._reason: str | None = None

    def check(self) -> None:
        # Asked on every submission: remember the answer for a while.
        now = time.monotonic()
        if now < self._checked_until:
            if self._reason:
                raise SandboxUnavailable(self._reason)
            return
        try:
            self._check()
            self._reason = None
        except SandboxUnavailable as exc:
            self._reason = str(exc)
            raise
        finally:
            self._checked_until = now + 30

    def _check(self) -> None:
        if not Path(self.docker).is_file():
            raise SandboxUnavailable(f"the docker CLI ({self.config.docker}) is not installed")
        try:
            probe = subprocess.run(
                [self.docker, "info", "--format", "{{.ServerVersion}}"],
                capture_output=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"the docker engine does not answer: {exc}") from exc
        if probe.returncode != 0 or not probe.stdout.strip():
            reason = probe.stderr.decode(errors="replace").strip()[:200] or "no server version"
            raise SandboxUnavailable(f"no docker engine is reachable: {reason}")

    def unsupported(self, language: str) -> str | None:
        if language not in IMAGES:
            return f"the docker backend has no {language} image wired yet (python only)"
        return None

    def run(
        self,
        request: SandboxRequest,
        events: SandboxEvents | None = None,
        cancel: threading.Event | None = None,
    ) -> SandboxResult:
        image = IMAGES.get(request.language)
        if image is None:
            raise SandboxUnavailable(f"no sandbox image for {request.language}")
        name = f"stackyard-run-{uuid.uuid4().hex[:12]}"
        args = docker_arguments(
            docker=self.docker,
            name=name,
            image=image,
            limits=request.limits,
            seccomp_profile=SECCOMP_PROFILE,
        )
        payload = request.source.encode() + b"\0" + request.stdin.encode()
        started = time.monotonic()
        process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        killed_for: str | None = None
        try:
            stdout, stderr = process.communicate(payload, timeout=request.limits.wall_time_s)
        except subprocess.TimeoutExpired:
            killed_for = "wall_time"
            subprocess.run([self.docker, "kill", name], capture_output=True, check=False)
            process.kill()
            stdout, stderr = process.communicate()
        cap = request.limits.output_bytes
        result = SandboxResult(
            stdout=stdout[:cap],
            stderr=stderr[:cap],
            truncated=len(stdout) > cap or len(stderr) > cap,
            wall_time_s=round(time.monotonic() - started, 3),
        )
        if killed_for:
            result.signal, result.limit_hit = signal.SIGKILL, killed_for
        elif process.returncode > 128:
            result.signal = process.returncode - 128
            result.limit_hit = "cpu_time" if result.signal == signal.SIGXCPU else None
        else:
            result.exit_code = process.returncode
        if result.limit_hit is None and result.truncated:
            result.limit_hit = "output"
        return result
