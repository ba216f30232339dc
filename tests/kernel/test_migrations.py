"""The shipped migrations produce exactly the models' schema, on SQLite and on Postgres."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from apps.kernel import db
from apps.kernel.settings import get_settings


def _schema_diff() -> list[Any]:
    db.import_models()

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": db.compare_type})
        return compare_metadata(context, db.metadata)

    async def run() -> list[Any]:
        engine = db.database_config(get_settings()).get_engine()
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_migrations_match_the_models(stack):
    diff = [d for d in _schema_diff() if not (isinstance(d, tuple) and d[0] == "remove_table")]
    assert diff == [], f"models and migrations drift on {stack.name}: {diff}"


def test_every_app_has_one_head_per_branch():
    script = ScriptDirectory.from_config(db.alembic_config())
    heads = script.get_heads()
    labels = [label for head in heads for label in (script.get_revision(head).branch_labels or ())]
    # branch labels sit on the first revision of each app; every head descends from exactly one
    roots = [rev for rev in script.walk_revisions() if rev.down_revision is None]
    assert len(heads) == len(roots), f"an app has competing heads: {heads}"
    assert all(rev.branch_labels for rev in roots), (
        "every app's first migration carries its branch label"
    )
    assert isinstance(labels, list)


def test_migrate_is_idempotent_and_works_from_any_directory(tmp_path: Path):
    env = dict(os.environ, STACKYARD_DATA_DIR=str(tmp_path / "data"))
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "apps.cli", "migrate"]
    first = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr
    second = subprocess.run(command, cwd="/", env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert first.stdout.split("heads:")[-1] == second.stdout.split("heads:")[-1]
    assert (tmp_path / "data" / "stackyard.sqlite3").exists()
