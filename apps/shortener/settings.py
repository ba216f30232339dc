"""Settings of the shortener, read from SHORTENER_* variables and validated at first use.

The code key keys the permutation that turns sequence numbers into codes: set
SHORTENER_CODE_KEY (at least 32 characters) on every server of a deployment, or let the
first start generate one into the data dir, as the kernel does for the JWT secret. Changing
the key later never breaks existing links (codes are stored), it only changes new ones.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from apps.kernel.settings import Settings, SettingsError, get_settings


def _int(name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"at least {minimum}" + (f" and at most {maximum}" if maximum else "")
        raise SettingsError(f"{name}={value} must be {bounds}")
    return value


def _code_key(data_dir: Path) -> bytes:
    """SHORTENER_CODE_KEY, else a key generated once and kept (mode 0600) in the data dir."""
    configured = os.environ.get("SHORTENER_CODE_KEY", "")
    if configured:
        if len(configured) < 32:
            raise SettingsError("SHORTENER_CODE_KEY must be at least 32 characters long")
        return configured.encode()
    path = data_dir / "shortener-code-key"
    if path.exists():
        return path.read_text().strip().encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process of this server wrote it first: use theirs.
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key.encode()


def _base_url(default: str) -> str:
    raw = os.environ.get("SHORTENER_BASE_URL", "").strip() or default
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SettingsError(f"SHORTENER_BASE_URL={raw!r} must be an http(s) URL with a host")
    if parts.query or parts.fragment:
        raise SettingsError(f"SHORTENER_BASE_URL={raw!r} must not have a query or fragment")
    return raw.rstrip("/")


@dataclass(frozen=True)
class ShortenerSettings:
    code_key: bytes
    base_url: str
    """Short URLs are `<base_url>/<code>`; also the host a target may not point back at."""
    anonymous_create_limit: int = 20
    user_create_limit: int = 300
    create_window_seconds: int = 60
    import_limit: int = 10
    """CSV imports per user per window (each import may hold up to `import_max_rows`)."""
    import_max_rows: int = 1000
    cache_ttl: int = 3600
    """Seconds a link stays in the Redis cache (the database is read on a miss)."""
    negative_cache_ttl: int = 60
    """Seconds an unknown code is remembered as unknown in Redis."""
    local_cache_ttl: int = 5
    """Seconds a server process trusts its own copy of a link (or of its absence)."""
    local_cache_size: int = 100_000
    push_interval_ms: int = 250
    """How often a server process moves its counted visits into the Redis buffer."""
    flush_interval: int = 10
    """How often the buffered visits are written to the database (beat, or the server)."""

    @property
    def base_host(self) -> str:
        return (urlsplit(self.base_url).hostname or "").lower()


def load_shortener_settings() -> ShortenerSettings:
    """Read and validate SHORTENER_*; raises SettingsError naming the bad variable."""
    platform = get_settings()
    return ShortenerSettings(
        code_key=_code_key(platform.data_dir),
        base_url=_base_url(platform.public_url),
        anonymous_create_limit=_int("SHORTENER_ANONYMOUS_CREATE_LIMIT", 20, minimum=1),
        user_create_limit=_int("SHORTENER_USER_CREATE_LIMIT", 300, minimum=1),
        create_window_seconds=_int("SHORTENER_CREATE_WINDOW_SECONDS", 60, minimum=1),
        import_limit=_int("SHORTENER_IMPORT_LIMIT", 10, minimum=1),
        import_max_rows=_int("SHORTENER_IMPORT_MAX_ROWS", 1000, minimum=1, maximum=100_000),
        cache_ttl=_int("SHORTENER_CACHE_TTL", 3600, minimum=1),
        negative_cache_ttl=_int("SHORTENER_NEGATIVE_CACHE_TTL", 60, minimum=1),
        local_cache_ttl=_int("SHORTENER_LOCAL_CACHE_TTL", 5, minimum=0, maximum=300),
        local_cache_size=_int("SHORTENER_LOCAL_CACHE_SIZE", 100_000, minimum=0),
        push_interval_ms=_int("SHORTENER_PUSH_INTERVAL_MS", 250, minimum=10, maximum=60_000),
        flush_interval=flush_interval(),
    )


def flush_interval() -> int:
    """SHORTENER_FLUSH_INTERVAL alone: what the beat schedule needs, without the code key."""
    return _int("SHORTENER_FLUSH_INTERVAL", 10, minimum=1, maximum=3600)


_memo: dict[int, tuple[Settings, ShortenerSettings]] = {}


def get_shortener_settings() -> ShortenerSettings:
    """The shortener settings that go with the current platform settings.

    Read again whenever the platform settings are (`reset_settings()`), or after
    `reset_shortener_settings()`.
    """
    platform = get_settings()
    memo = _memo.get(0)
    if memo is None or memo[0] is not platform:
        memo = _memo[0] = (platform, load_shortener_settings())
    return memo[1]


def reset_shortener_settings() -> None:
    _memo.clear()
