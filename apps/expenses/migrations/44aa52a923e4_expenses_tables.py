"""expenses tables

Revision ID: 44aa52a923e4
Revises:
Create Date: 2026-12-04 20:05:52.921387
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "44aa52a923e4"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("expenses",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "expenses_expense",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("owner_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expenses_expense")),
    )
    with op.batch_alter_table("expenses_expense", schema=None) as batch_op:
        batch_op.create_index(
            "ix_expenses_expense_owner_category_spent_on",
            ["owner_id", "category", "spent_on"],
            unique=False,
        )
        batch_op.create_index(
            "ix_expenses_expense_owner_spent_on", ["owner_id", "spent_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("expenses_expense", schema=None) as batch_op:
        batch_op.drop_index("ix_expenses_expense_owner_spent_on")
        batch_op.drop_index("ix_expenses_expense_owner_category_spent_on")

    op.drop_table("expenses_expense")
