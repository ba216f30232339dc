"""Choosing the sandbox backend: bubblewrap where it works, docker where an engine answers."""

from __future__ import annotations

import threading

from apps.runner.config import RunnerConfig
from apps.runner.sandbox.base import Sandbox, SandboxUnavailable

_built: dict[tuple[str, str], Sandbox] = {}
_lock = threading.Lock()


def select_sandbox(config: RunnerConfig | None = None) -> Sandbox:
    """The configured backend, checked; raises `SandboxUnavailable` saying why if none works.

    Backends are built once per configuration and probe themselves once (a failed probe is
    retried after a while), however many requests ask at the same time.
    """
    config = config or RunnerConfig.from_env()
    reasons = []
    names = ["bubblewrap", "docker"] if config.backend == "auto" else [config.backend]
    for name in names:
        with _lock:
            candidate = _built.get((repr(config), name))
            if candidate is None:
                candidate = _built[(repr(config), name)] = _build(name, config)
        try:
            candidate.check()
        except SandboxUnavailable as exc:
            reasons.append(f"{name}: {exc}")
            continue
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
