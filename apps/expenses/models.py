"""Expense tables: one row per expense, always read through its owner."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy import Date, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from apps.kernel.db import Base


class Expense(Base):
    """Money one user spent on a day; `amount` is exact (Numeric(12, 2)), never a float."""

    __tablename__ = "expenses_expense"
    __table_args__ = (
        Index("ix_expenses_expense_owner_spent_on", "owner_id", "spent_on"),
        Index("ix_expenses_expense_owner_category_spent_on", "owner_id", "category", "spent_on"),
    )

    owner_id: Mapped[UUID]
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))
    currency: Mapped[str] = mapped_column(String(3))
    category: Mapped[str] = mapped_column(String(20))
    spent_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500), default=None)
