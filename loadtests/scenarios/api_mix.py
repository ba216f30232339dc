"""api-mix: sign in, browse and filter articles, create tasks and expenses (all apps mounted)."""

from __future__ import annotations

from pathlib import Path

from loadtests.scenarios import Scenario, register
from loadtests.targets import self_started_server

LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfiles" / "api_mix.py"

SCENARIO = register(
    Scenario(
        name="api-mix",
        locustfile=LOCUSTFILE,
        target=self_started_server,
        description="Sign in, browse and filter articles, create tasks and expenses.",
    )
)
