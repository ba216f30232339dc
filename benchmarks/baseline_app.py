"""The baselines benchmarks compare against: bare Litestar handlers, no kernel, no database.

Served by the same server command as the platform (granian or uvicorn, one worker), so a
ratio measures what our code costs, not the server.
"""

from __future__ import annotations

import json
import os
from typing import Any

from litestar import Litestar, get


def create_app() -> Litestar:
    """`GET /blog/articles` answers the JSON in BASELINE_JSON_FILE, decoded once at start."""
    with open(os.environ["BASELINE_JSON_FILE"], encoding="utf-8") as handle:
        payload: Any = json.load(handle)

    @get("/blog/articles", sync_to_thread=False)
    def articles() -> Any:
        return payload

    return Litestar(route_handlers=[articles], logging_config=None)
