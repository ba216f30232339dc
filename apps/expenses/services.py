"""Expense domain logic: exact amounts, ISO 4217 currencies, periods and per-currency totals.

Every query is scoped by owner, so another user's expense is indistinguishable from a
missing one (404, never 403). No HTTP objects here; the caller owns the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import get_args
from uuid import UUID

import pycountry
from msgspec import UNSET
from sqlalchemy import BigInteger, Select, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.expenses.models import Expense
from apps.expenses.schemas import Category, ExpenseCreate, ExpenseUpdate, Period
from apps.kernel.errors import Invalid, NotFound

CATEGORIES: tuple[str, ...] = get_args(Category)
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")
PERIOD_DAYS = {"past_week": 7, "last_month": 30, "last_3_months": 90}
"""Rolling windows that end today (UTC) and include it: past_week is today and the 6 days
before it; last_month the last 30 days; last_3_months the last 90 days."""
NOT_MONEY_NUMERIC = frozenset({"999", "963"})
"""ISO 4217 numeric codes of "no currency" (999) and "testing" (963): no money is spent in them."""


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    """The active ISO 4217 codes (from pycountry's copy of the standard)."""
    return frozenset(c.alpha_3 for c in pycountry.currencies if c.numeric not in NOT_MONEY_NUMERIC)


def utc_today() -> date:
    return datetime.now(UTC).date()


def normalise_amount(amount: Decimal) -> Decimal:
    """An exact positive amount with two places; more precision would be silently lost."""
    if not amount.is_finite():
        raise Invalid("amount", "amount must be a finite number")
    if amount <= 0:
        raise Invalid("amount", "amount must be greater than 0")
    if amount > MAX_AMOUNT:
        raise Invalid("amount", f"amount must be at most {MAX_AMOUNT}")
    quantised = amount.quantize(CENT)
    if quantised != amount:
        raise Invalid("amount", "amount must have at most 2 decimal places")
    return quantised


def normalise_currency(code: str) -> str:
    upper = code.strip().upper()
    if upper not in currency_codes():
        raise Invalid("currency", f"{code!r} is not an ISO 4217 currency code")
    return upper


def format_amount(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):.2f}"


def cents_to_text(cents: int) -> str:
    return format_amount(Decimal(cents).scaleb(-2))


@dataclass(frozen=True)
class DateRange:
    """Inclusive bounds on `spent_on`."""

    start: date
    end: date


def resolve_period(
    period: Period | None, start: date | None, end: date | None, *, today: date
) -> DateRange | None:
    """The days a period covers (None: all time); `start`/`end` belong to `custom` only."""
    if period is None:
        if start is not None or end is not None:
            raise Invalid("period", "start and end need period=custom")
        return None
    if period != "custom":
        if start is not None or end is not None:
            name = "start" if start is not None else "end"
            raise Invalid(name, f"{name} is only allowed with period=custom")
        return DateRange(start=today - timedelta(days=PERIOD_DAYS[period] - 1), end=today)
    if start is None:
        raise Invalid("start", "period=custom needs start (an ISO date)")
    if end is None:
        raise Invalid("end", "period=custom needs end (an ISO date)")
    if start > end:
        raise Invalid("end", "end must not be before start")
    return DateRange(start=start, end=end)


@dataclass(frozen=True)
class ExpenseFilters:
    dates: DateRange | None = None
    categories: Sequence[str] = ()
    currency: str | None = None


@dataclass
class CurrencyTotals:
    currency: str
    total_cents: int = 0
    count: int = 0
    by_category_cents: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))


class ExpenseService:
    """The signed-in user's expenses; the session is owned by the caller."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, owner_id: UUID, data: ExpenseCreate) -> Expense:
        expense = Expense(
            owner_id=owner_id,
            amount=normalise_amount(data.amount),
            currency=normalise_currency(data.currency),
            category=data.category,
            spent_on=data.spent_on,
            note=data.note,
        )
        self.session.add(expense)
        await self.session.flush()
        return expense

    async def get(self, owner_id: UUID, expense_id: UUID) -> Expense:
        expense = await self.session.scalar(
            select(Expense).where(Expense.id == expense_id, Expense.owner_id == owner_id)
        )
        if expense is None:
            raise NotFound(f"No expense {expense_id}", field="expense_id")
        return expense

    def _filtered(self, owner_id: UUID, filters: ExpenseFilters) -> Select[Expense]:
        query = select(Expense).where(Expense.owner_id == owner_id)
        if filters.dates is not None:
            query = query.where(
                Expense.spent_on >= filters.dates.start, Expense.spent_on <= filters.dates.end
            )
        if filters.categories:
            query = query.where(Expense.category.in_(set(filters.categories)))
        if filters.currency is not None:
            query = query.where(Expense.currency == normalise_currency(filters.currency))
        return query

    async def list_expenses(
        self, owner_id: UUID, filters: ExpenseFilters, *, page: int, page_size: int
    ) -> tuple[list[Expense], int]:
        """One page of my expenses, most recent day first, and how many match in all."""
        query = self._filtered(owner_id, filters)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(Expense.spent_on.desc(), Expense.created_at.desc(), Expense.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return list(rows), int(total or 0)

    async def update(self, owner_id: UUID, expense_id: UUID, changes: ExpenseUpdate) -> Expense:
        """Change only the fields the body names; null clears `note`."""
        expense = await self.get(owner_id, expense_id)
        if changes.amount is not UNSET:
            expense.amount = normalise_amount(changes.amount)
        if changes.currency is not UNSET:
            expense.currency = normalise_currency(changes.currency)
        if changes.category is not UNSET:
            expense.category = changes.category
        if changes.spent_on is not UNSET:
            expense.spent_on = changes.spent_on
        if changes.note is not UNSET:
            expense.note = changes.note
        await self.session.flush()
        return expense

    async def delete(self, owner_id: UUID, expense_id: UUID) -> None:
        expense = await self.get(owner_id, expense_id)
        await self.session.delete(expense)
        await self.session.flush()

    async def totals(self, owner_id: UUID, dates: DateRange | None) -> list[CurrencyTotals]:
        """Sums per currency and category, computed by the database in integer cents.

        Summing cents keeps the totals exact on SQLite too, which stores NUMERIC as REAL
        and would otherwise add binary fractions.
        """
        cents = cast(func.round(Expense.amount * 100), BigInteger)
        query = (
            self._filtered(owner_id, ExpenseFilters(dates=dates))
            .with_only_columns(
                Expense.currency, Expense.category, func.sum(cents), func.count(Expense.id)
            )
            .group_by(Expense.currency, Expense.category)
            .order_by(Expense.currency, Expense.category)
        )
        grouped: dict[str, CurrencyTotals] = {}
        for currency, category, total, count in (await self.session.execute(query)).all():
            entry = grouped.setdefault(currency, CurrencyTotals(currency=currency))
            entry.by_category_cents[category] = int(total)
            entry.total_cents += int(total)
            entry.count += int(count)
        return list(grouped.values())
