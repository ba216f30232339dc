"""Sandboxes that run untrusted code, behind one small protocol.

Backends: `bubblewrap` (namespaces + seccomp + rlimits, the default where it works) and
`docker` (the images of sandbox-images/, where an engine is reachable). There is no
unsandboxed backend: `select_sandbox` raises `SandboxUnavailable` saying why.
"""

from __future__ import annotations

from apps.runner.sandbox.base import (
    LANGUAGES,
    Sandbox,
    SandboxEvents,
    SandboxRequest,
    SandboxResult,
    SandboxUnavailable,
)
from apps.runner.sandbox.selection import select_sandbox

__all__ = [
    "LANGUAGES",
    "Sandbox",
    "SandboxEvents",
    "SandboxRequest",
    "SandboxResult",
    "SandboxUnavailable",
    "select_sandbox",
]
