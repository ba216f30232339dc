"""Browser settings of the scraper, read from the environment (the kernel needs none of them)."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from apps.kernel.settings import SettingsError

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Quiet, reproducible headless runs: no GPU, no QUIC, no first-run UI and no background
# traffic (component updates, sync, safe-browsing lists) that would reach the internet.
DEFAULT_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass(frozen=True)
class ScrapeSettings:
    """Where the browser is, how it starts, and how long a command may wait."""

    chromium: Path
    flags: tuple[str, ...]
    timeout_ms: int
    navigation_timeout_ms: int
    history_file: Path


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value < 1:
        raise SettingsError(f"{name}={value} must be at least 1")
    return value


def _flags() -> tuple[str, ...]:
    raw = os.environ.get("STACKYARD_CHROMIUM_FLAGS")
    try:
        flags = tuple(shlex.split(raw)) if raw is not None else DEFAULT_FLAGS
    except ValueError as exc:
        raise SettingsError(f"STACKYARD_CHROMIUM_FLAGS cannot be parsed: {exc}") from None
    # Chromium refuses to start its sandbox as root; without this flag it exits at once.
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--no-sandbox" not in flags:
        flags = (*flags, "--no-sandbox")
    return flags


def load_scrape_settings() -> ScrapeSettings:
    """Read STACKYARD_CHROMIUM, STACKYARD_CHROMIUM_FLAGS and the STACKYARD_SCRAPE_* variables."""
    timeout_ms = _positive_int("STACKYARD_SCRAPE_TIMEOUT_MS", 5000)
    history = os.environ.get("STACKYARD_SCRAPE_HISTORY", "").strip()
    return ScrapeSettings(
        chromium=Path(os.environ.get("STACKYARD_CHROMIUM", "").strip() or DEFAULT_CHROMIUM),
        flags=_flags(),
        timeout_ms=timeout_ms,
        navigation_timeout_ms=_positive_int(
            "STACKYARD_SCRAPE_NAVIGATION_TIMEOUT_MS", max(timeout_ms, 15000)
        ),
        history_file=Path(history or "~/.stackyard_scrape_history").expanduser(),
    )
