"""Alembic environment: runs every app's migrations on the async engine."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from apps.kernel.db import compare_type, import_models, metadata

import_models()
config = context.config


_ONLY_PREFIX: str | None = config.attributes.get("only_tables_prefix")


def _table_name(obj: Any, type_: str) -> str | None:
    if type_ == "table":
        return str(obj.name)
    table = getattr(obj, "table", None)
    return str(table.name) if table is not None else None


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # Tables nobody declared (kombu's, a user's own) are not ours to drop.
    if type_ == "table" and reflected and compare_to is None:
        return False
    # `stackyard migrate revision APP` writes only APP's own tables (prefix `APP_`), so apps
    # developed side by side never put each other's tables into their migrations.
    if _ONLY_PREFIX is not None:
        table = _table_name(obj, type_)
        return table is None or table.startswith(_ONLY_PREFIX)
    return True


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=compare_type,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
