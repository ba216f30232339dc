"""SHORTENER_* settings: validated, the code key generated once and kept."""

from __future__ import annotations

import os
import stat

import pytest

from apps.kernel.settings import SettingsError, reset_settings
from apps.shortener.settings import get_shortener_settings, reset_shortener_settings


@pytest.fixture
def environment(tmp_path, monkeypatch):
    monkeypatch.setenv("STACKYARD_DATA_DIR", str(tmp_path))
    for name in list(os.environ):
        if name.startswith("SHORTENER_"):
            monkeypatch.delenv(name)
    reset_settings()
    reset_shortener_settings()
    yield monkeypatch
    reset_settings()
    reset_shortener_settings()


def test_code_key_is_generated_once_and_private(environment, tmp_path):
    first = get_shortener_settings().code_key
    path = tmp_path / "shortener-code-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    reset_shortener_settings()
    assert get_shortener_settings().code_key == first
    assert len(first) >= 32


def test_configured_code_key_must_be_long(environment):
    environment.setenv("SHORTENER_CODE_KEY", "too-short")
    with pytest.raises(SettingsError, match="SHORTENER_CODE_KEY"):
        get_shortener_settings()


def test_base_url_defaults_to_public_url_and_is_validated(environment):
    environment.setenv("PUBLIC_URL", "https://sy.example")
    reset_settings()
    assert get_shortener_settings().base_url == "https://sy.example"
    environment.setenv("SHORTENER_BASE_URL", "https://s.example/")
    reset_shortener_settings()
    assert get_shortener_settings().base_url == "https://s.example"
    assert get_shortener_settings().base_host == "s.example"
    for bad in ("ftp://s.example", "https://", "https://s.example/?q=1"):
        environment.setenv("SHORTENER_BASE_URL", bad)
        reset_shortener_settings()
        with pytest.raises(SettingsError, match="SHORTENER_BASE_URL"):
            get_shortener_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHORTENER_ANONYMOUS_CREATE_LIMIT", "0"),
        ("SHORTENER_CACHE_TTL", "soon"),
        ("SHORTENER_LOCAL_CACHE_TTL", "301"),
        ("SHORTENER_FLUSH_INTERVAL", "0"),
        ("SHORTENER_IMPORT_MAX_ROWS", "1000000"),
    ],
)
def test_bad_numbers_name_the_variable(environment, name, value):
    environment.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        get_shortener_settings()
