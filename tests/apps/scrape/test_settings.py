"""Browser settings from the environment: Debian's Chromium, quiet flags, short timeouts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.kernel.settings import SettingsError
from apps.scrape.settings import DEFAULT_FLAGS, load_scrape_settings

VARIABLES = (
    "STACKYARD_CHROMIUM",
    "STACKYARD_CHROMIUM_FLAGS",
    "STACKYARD_SCRAPE_TIMEOUT_MS",
    "STACKYARD_SCRAPE_NAVIGATION_TIMEOUT_MS",
    "STACKYARD_SCRAPE_HISTORY",
)


@pytest.fixture
def clean_env(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_are_debian_chromium_with_background_traffic_off(clean_env):
    settings = load_scrape_settings()
    assert settings.chromium == Path("/usr/bin/chromium")
    assert settings.flags[: len(DEFAULT_FLAGS)] == DEFAULT_FLAGS
    assert "--disable-background-networking" in settings.flags
    assert ("--no-sandbox" in settings.flags) == (os.geteuid() == 0)
    assert (settings.timeout_ms, settings.navigation_timeout_ms) == (5000, 15000)
    assert settings.history_file == Path("~/.stackyard_scrape_history").expanduser()


def test_every_value_can_be_configured(clean_env, tmp_path: Path):
    clean_env.setenv("STACKYARD_CHROMIUM", "/opt/chrome/chrome")
    clean_env.setenv("STACKYARD_CHROMIUM_FLAGS", "--disable-gpu '--lang=en US'")
    clean_env.setenv("STACKYARD_SCRAPE_TIMEOUT_MS", "250")
    clean_env.setenv("STACKYARD_SCRAPE_NAVIGATION_TIMEOUT_MS", "900")
    clean_env.setenv("STACKYARD_SCRAPE_HISTORY", str(tmp_path / "h"))
    settings = load_scrape_settings()
    assert settings.chromium == Path("/opt/chrome/chrome")
    assert settings.flags[:2] == ("--disable-gpu", "--lang=en US")
    assert (settings.timeout_ms, settings.navigation_timeout_ms) == (250, 900)
    assert settings.history_file == tmp_path / "h"


def test_a_timeout_above_the_navigation_default_raises_it_too(clean_env):
    clean_env.setenv("STACKYARD_SCRAPE_TIMEOUT_MS", "20000")
    assert load_scrape_settings().navigation_timeout_ms == 20000


def test_a_bad_timeout_names_the_variable(clean_env):
    clean_env.setenv("STACKYARD_SCRAPE_NAVIGATION_TIMEOUT_MS", "-5")
    with pytest.raises(SettingsError, match="STACKYARD_SCRAPE_NAVIGATION_TIMEOUT_MS=-5"):
        load_scrape_settings()
