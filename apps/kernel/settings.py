"""One typed settings object, read from the environment and validated at start."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting has a value the platform cannot run with; the message names the variable."""


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise SettingsError(f"{name}={value} must be at least {minimum}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (use true/false)")


def _url(name: str, allowed_schemes: tuple[str, ...]) -> str | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    scheme = urlsplit(raw).scheme
    if not any(scheme == s or scheme.startswith(s + "+") for s in allowed_schemes):
        raise SettingsError(
            f"{name}={raw!r} has scheme {scheme!r}; expected one of {', '.join(allowed_schemes)}"
        )
    return raw


def _list(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _jwt_secret(data_dir: Path) -> str:
    """Use JWT_SECRET, else a secret generated once and kept (mode 0600) in the data dir."""
    configured = os.environ.get("JWT_SECRET", "")
    if configured:
        if len(configured) < 32:
            raise SettingsError("JWT_SECRET must be at least 32 characters long")
        return configured
    path = data_dir / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


@dataclass(frozen=True)
class Settings:
    """Everything the platform reads from its environment."""

    data_dir: Path
    database_url: str
    redis_url: str | None
    celery_broker_url: str | None
    celery_result_backend: str | None
    event_bus_url: str | None
    jwt_secret: str
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600
    login_max_failures: int = 10
    login_window_seconds: int = 300
    login_max_failures_per_ip: int = 100
    forwarded_allow_ips: tuple[str, ...] = ("127.0.0.1",)
    """Peers whose X-Forwarded-For is believed (the load balancer); `*` believes any."""
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    action_token_ttl: int = 24 * 3600
    smtp_url: str | None = None
    mail_from: str = "Stackyard <no-reply@stackyard.local>"
    public_url: str = "http://127.0.0.1:8000"
    cors_origins: tuple[str, ...] = ()
    embedded_worker: bool = True
    log_level: str = "INFO"
    debug: bool = False

    @property
    def embedded(self) -> bool:
        """True when the platform runs on its embedded defaults (no Redis server)."""
        return self.redis_url is None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _database_url(data_dir: Path) -> str:
    raw = _url("DATABASE_URL", ("sqlite", "postgresql", "postgres"))
    if raw is None:
        return f"sqlite+aiosqlite:///{(data_dir / 'stackyard.sqlite3').resolve()}"
    scheme, _, rest = raw.partition("://")
    if scheme in {"postgres", "postgresql", "postgresql+asyncpg"}:
        return f"postgresql+asyncpg://{rest}"
    if scheme in {"sqlite", "sqlite+aiosqlite"}:
        return f"sqlite+aiosqlite://{rest}"
    raise SettingsError(
        f"DATABASE_URL driver {scheme!r} is not supported (use postgresql or sqlite)"
    )


def load_settings() -> Settings:
    """Read and validate the environment; raises SettingsError naming the bad variable."""
    data_dir = Path(os.environ.get("STACKYARD_DATA_DIR", ".stackyard")).expanduser().resolve()
    log_level = os.environ.get("LOG_LEVEL", "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise SettingsError(f"LOG_LEVEL={log_level!r} is not a logging level")
    return Settings(
        data_dir=data_dir,
        database_url=_database_url(data_dir),
        redis_url=_url("REDIS_URL", ("redis", "rediss", "unix")),
        celery_broker_url=_url(
            "CELERY_BROKER_URL",
            ("redis", "rediss", "amqp", "amqps", "pyamqp", "sqla", "filesystem"),
        ),
        celery_result_backend=_url(
            "CELERY_RESULT_BACKEND", ("redis", "rediss", "db", "file", "rpc")
        ),
        event_bus_url=_url("EVENT_BUS_URL", ("redis", "rediss", "amqp", "amqps", "memory")),
        jwt_secret=_jwt_secret(data_dir),
        access_token_ttl=_int("ACCESS_TOKEN_TTL", 900, minimum=1),
        refresh_token_ttl=_int("REFRESH_TOKEN_TTL", 30 * 24 * 3600, minimum=1),
        login_max_failures=_int("LOGIN_MAX_FAILURES", 10, minimum=1),
        login_window_seconds=_int("LOGIN_WINDOW_SECONDS", 300, minimum=1),
        login_max_failures_per_ip=_int("LOGIN_MAX_FAILURES_PER_IP", 100, minimum=1),
        forwarded_allow_ips=_list("FORWARDED_ALLOW_IPS") or ("127.0.0.1",),
        password_hash_time_cost=_int("PASSWORD_HASH_TIME_COST", 3, minimum=1),
        password_hash_memory_kib=_int("PASSWORD_HASH_MEMORY_KIB", 65536, minimum=8),
        action_token_ttl=_int("ACTION_TOKEN_TTL", 24 * 3600, minimum=1),
        smtp_url=_url("SMTP_URL", ("smtp", "smtps")),
        mail_from=os.environ.get("MAIL_FROM", "Stackyard <no-reply@stackyard.local>"),
        public_url=os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        cors_origins=_list("CORS_ORIGINS"),
        embedded_worker=_bool("STACKYARD_EMBEDDED_WORKER", True),
        log_level=log_level,
        debug=_bool("STACKYARD_DEBUG", False),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; `reset_settings()` makes the next call read the environment."""
    return load_settings()


def reset_settings() -> None:
    get_settings.cache_clear()
