"""drop the unused score index by user

No query reads leaderboard_score by (user_id, submitted_at), and the index cost 14% of the
score intake's batch INSERT.

Revision ID: 325011d51fef
Revises: 8a4e5cff8eea
Create Date: 2026-12-05 05:34:21.582895
"""

from collections.abc import Sequence

from alembic import op

revision: str = "325011d51fef"
down_revision: str | Sequence[str] | None = "8a4e5cff8eea"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leaderboard_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leaderboard_score_user_time"))


def downgrade() -> None:
    with op.batch_alter_table("leaderboard_score", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leaderboard_score_user_time"), ["user_id", "submitted_at"], unique=False
        )
