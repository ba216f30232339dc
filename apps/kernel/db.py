"""SQLAlchemy 2 async engine and sessions (advanced-alchemy), and the Alembic migrations.

Every app declares its tables on `Base` with table names prefixed by the app
(`blog_article`), and ships its migrations in `apps/<app>/migrations/`, a version folder
with the app's branch label, so apps built in parallel never create competing heads.
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from advanced_alchemy.base import UUIDAuditBase, orm_registry
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from sqlalchemy import MetaData, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from apps.kernel.settings import Settings, get_settings

Base = UUIDAuditBase
"""The declarative base of every table: a UUID `id`, `created_at` and `updated_at`."""

metadata: MetaData = orm_registry.metadata

KERNEL_DIR = Path(__file__).resolve().parent
APPS_DIR = KERNEL_DIR.parent
MIGRATIONS_DIR = KERNEL_DIR / "migrations"

_loop_configs: dict[tuple[str, int], SQLAlchemyAsyncConfig] = {}
_dispose_hooks: list[Callable[[], Awaitable[None]]] = []


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL + busy timeout let the server, the worker and the CLI share one SQLite file."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def database_config(settings: Settings | None = None) -> SQLAlchemyAsyncConfig:
    """A new advanced-alchemy config (and engine) for the configured database.

    Async drivers bind pooled connections to one event loop, so each application instance
    and each event loop gets its own engine rather than sharing a module-level one.
    """
    settings = settings or get_settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine_config = EngineConfig(connect_args={"timeout": 30})
    else:
        # No pre-ping: on asyncpg it costs three round trips per checkout. A connection the
        # server dropped fails its request with 503 (errors.py), and SQLAlchemy then
        # invalidates the whole pool, so one request per pool sees a database restart.
        engine_config = EngineConfig(pool_size=10, max_overflow=20, pool_recycle=1800)
    config = SQLAlchemyAsyncConfig(
        connection_string=settings.database_url,
        engine_config=engine_config,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit",
        create_all=False,
    )
    if settings.is_sqlite:
        event.listen(config.get_engine().sync_engine, "connect", _sqlite_pragmas)
    return config


def database_plugin(config: SQLAlchemyAsyncConfig) -> SQLAlchemyPlugin:
    return SQLAlchemyPlugin(config=config)


def _loop_config(settings: Settings | None = None) -> SQLAlchemyAsyncConfig:
    settings = settings or get_settings()
    key = (settings.database_url, id(asyncio.get_running_loop()))
    if key not in _loop_configs:
        _loop_configs[key] = database_config(settings)
    return _loop_configs[key]


def engine(settings: Settings | None = None) -> AsyncEngine:
    """The engine of the running event loop (for work outside a request)."""
    return _loop_config(settings).get_engine()


@asynccontextmanager
async def session(settings: Settings | None = None) -> AsyncIterator[AsyncSession]:
    """A session for work outside a request (CLI, Celery tasks): commits on success."""
    async with _loop_config(settings).get_session() as db_session:
        try:
            yield db_session
            await db_session.commit()
        except BaseException:
            await db_session.rollback()
            raise


def on_dispose(hook: Callable[[], Awaitable[None]]) -> None:
    """Have dispose_engines await `hook` first: it returns connections the running loop's
    own users hold checked out (a disposed pool would otherwise leave them open)."""
    if hook not in _dispose_hooks:
        _dispose_hooks.append(hook)


async def dispose_engines() -> None:
    """Close the engines of the running loop; call before the loop ends."""
    for hook in _dispose_hooks:
        await hook()
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _loop_configs if k[1] == loop_id]:
        config = _loop_configs.pop(key)
        if config.engine_instance is not None:
            await config.engine_instance.dispose()


def compare_type(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    """Alembic type comparison that knows SQLite reflects GUID's BINARY(16) as NUMERIC(16)."""
    from advanced_alchemy.types import GUID

    if isinstance(metadata_type, GUID) and context.dialect.name == "sqlite":
        return type(inspected_type).__name__ not in {
            "NUMERIC",
            "BINARY",
            "CHAR",
            "BLOB",
            "VARBINARY",
        }
    return None


def app_packages() -> list[str]:
    """Names of every app package (folders of apps/ other than the kernel), sorted."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(APPS_DIR)])
        if info.ispkg and info.name != "kernel" and not info.name.startswith("_")
    )


def import_models(names: Iterable[str] | None = None) -> None:
    """Import the models of the kernel and of every app so the metadata is complete."""
    importlib.import_module("apps.kernel.identity.models")
    for name in names if names is not None else app_packages():
        if (APPS_DIR / name / "models.py").exists():
            importlib.import_module(f"apps.{name}.models")


def version_locations() -> list[str]:
    """Each app's migrations folder; the kernel's identity tables live in the kernel's."""
    folders = [str(MIGRATIONS_DIR / "versions")]
    folders += [
        str(APPS_DIR / name / "migrations")
        for name in app_packages()
        if (APPS_DIR / name / "migrations").is_dir()
    ]
    return folders


def alembic_config(settings: Settings | None = None) -> Any:
    """An Alembic config built in code, so `stackyard migrate` works from any directory."""
    from alembic.config import Config

    settings = settings or get_settings()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_locations", " ".join(version_locations()))
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings | None = None) -> list[str]:
    """Apply every app's migrations (`upgrade heads`); returns the heads now applied."""
    from alembic import command

    settings = settings or get_settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), "heads")
    return sorted(asyncio.run(_current_heads(settings)))


def script_heads(settings: Settings | None = None) -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())


async def _current_heads(settings: Settings) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Any) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    db_engine = database_config(settings).get_engine()
    try:
        async with db_engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await db_engine.dispose()


async def pending_migrations(settings: Settings | None = None) -> set[str]:
    """Heads of the shipped migrations that the database has not reached."""
    from alembic.script import ScriptDirectory

    settings = settings or get_settings()
    script = ScriptDirectory.from_config(alembic_config(settings))
    applied = await _current_heads(settings)
    reached: set[str] = set()
    for head in applied:
        reached.update(rev.revision for rev in script.iterate_revisions(head, "base"))
    return {head for head in script.get_heads() if head not in reached}


async def ping(settings: Settings | None = None) -> None:
    async with engine(settings).connect() as connection:
        await connection.execute(text("SELECT 1"))
