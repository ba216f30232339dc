"""Choosing the sandbox backend: bubblewrap where it works, docker where an engine answers."""

from __future__ import annotations

import threading

from apps.runner.config import RunnerConfig
from apps.runner.sandbox.base import Sandbox, SandboxUnavailable

_cache: dict[str, Sandbox] = {}
_lock = threading.Lock()


def select_sandbox(config: RunnerConfig | None = None) -> Sandbox:
    """The configured backend, checked; raises `SandboxUnavailable` saying why if none works."""
    config = config or RunnerConfig.from_env()
    key = repr(config)
    with _lock:
        sandbox = _cache.get(key)
    if sandbox is not None:
        sandbox.check()
        return sandbox
    reasons = []
    names = ["bubblewrap", "docker"] if config.backend == "auto" else [config.backend]
    for name in names:
        candidate = _build(name, config)
        try:
            candidate.check()
        except SandboxUnavailable as exc:
            reasons.append(f"{name}: {exc}")
            continue
        with _lock:
            _cache[key] = candidate
        return candidate
    raise SandboxUnavailable("no sandbox can run code here; " + "; ".join(reasons))


def _build(name: str, config: RunnerConfig) -> Sandbox:
    if name == "bubblewrap":
        from apps.runner.sandbox.bubblewrap import BubblewrapSandbox

        return BubblewrapSandbox(config)
    if name == "docker":
        from apps.runner.sandbox.docker import DockerSandbox

        return DockerSandbox(config)
    raise SandboxUnavailable(f"unknown RUNNER_BACKEND {name!r}; use auto, bubblewrap or docker")
