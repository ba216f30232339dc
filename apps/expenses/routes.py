"""The expense tracker API at /expenses: my expenses only; anyone else's is a 404."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from apps.expenses.models import Expense
from apps.expenses.schemas import (
    Category,
    CurrencyTotal,
    ExpenseCreate,
    ExpenseRead,
    ExpenseSummary,
    ExpenseUpdate,
    Period,
)
from apps.expenses.services import (
    ExpenseFilters,
    ExpenseService,
    cents_to_text,
    format_amount,
    resolve_period,
    utc_today,
)
from apps.kernel.identity import CurrentUser, requires_user
from apps.kernel.pagination import MAX_PAGE_SIZE, Page, make_page

PERIOD_HELP = (
    "Rolling windows ending today (UTC), today included: `past_week` = the last 7 days, "
    "`last_month` = the last 30 days, `last_3_months` = the last 90 days. `custom` needs "
    "`start` and `end` (ISO dates, inclusive, start <= end). Omit it for all time."
)


async def provide_expenses(db_session: AsyncSession) -> ExpenseService:
    return ExpenseService(db_session)


def expense_read(expense: Expense) -> ExpenseRead:
    return ExpenseRead(
        id=expense.id,
        amount=format_amount(expense.amount),
        currency=expense.currency,
        category=expense.category,  # type: ignore[arg-type]
        spent_on=expense.spent_on,
        note=expense.note,
        created_at=expense.created_at,
        updated_at=expense.updated_at,
    )


class ExpenseController(Controller):
    """My expenses (brief #4): CRUD, period and category filters, per-currency summaries."""

    path = "/"
    guards = [requires_user]
    dependencies = {"expenses": Provide(provide_expenses)}

    @post("/", operation_id="CreateExpense", status_code=201)
    async def create_expense(
        self,
        request: Request[CurrentUser, Token, Any],
        data: ExpenseCreate,
        expenses: ExpenseService,
    ) -> ExpenseRead:
        """Record an expense; `amount` is exact (string or number, at most 2 places)."""
        return expense_read(await expenses.create(request.user.id, data))

    @get("/", operation_id="ListExpenses")
    async def list_expenses(
        self,
        request: Request[CurrentUser, Token, Any],
        expenses: ExpenseService,
        period: Period | None = Parameter(default=None, description=PERIOD_HELP),
        start: date | None = Parameter(default=None, description="First day (period=custom)"),
        end: date | None = Parameter(default=None, description="Last day (period=custom)"),
        category: list[Category] | None = Parameter(
            default=None, description="Keep expenses in any of these categories (repeatable)"
        ),
        currency: str | None = Parameter(
            default=None, min_length=3, max_length=3, description="Keep one ISO 4217 currency"
        ),
        page: int = Parameter(default=1, ge=1, le=1_000_000),
        page_size: int = Parameter(default=20, ge=1, le=MAX_PAGE_SIZE),
    ) -> Page[ExpenseRead]:
        """My expenses, most recent day first, filtered and paginated."""
        filters = ExpenseFilters(
            dates=resolve_period(period, start, end, today=utc_today()),
            categories=category or (),
            currency=currency,
        )
        rows, total = await expenses.list_expenses(
            request.user.id, filters, page=page, page_size=page_size
        )
        return make_page(
            request, [expense_read(e) for e in rows], total=total, page=page, page_size=page_size
        )

    @get("/summary", operation_id="SummariseExpenses")
    async def summary(
        self,
        request: Request[CurrentUser, Token, Any],
        expenses: ExpenseService,
        period: Period | None = Parameter(default=None, description=PERIOD_HELP),
        start: date | None = Parameter(default=None, description="First day (period=custom)"),
        end: date | None = Parameter(default=None, description="Last day (period=custom)"),
    ) -> ExpenseSummary:
        """What I spent in the period, per currency (never added across currencies)."""
        dates = resolve_period(period, start, end, today=utc_today())
        totals = await expenses.totals(request.user.id, dates)
        return ExpenseSummary(
            period=period,
            start=dates.start if dates else None,
            end=dates.end if dates else None,
            totals=[
                CurrencyTotal(
                    currency=entry.currency,
                    total=cents_to_text(entry.total_cents),
                    count=entry.count,
                    by_category={k: cents_to_text(v) for k, v in entry.by_category_cents.items()},
                )
                for entry in totals
            ],
        )

    @get("/{expense_id:uuid}", operation_id="GetExpense")
    async def get_expense(
        self,
        request: Request[CurrentUser, Token, Any],
        expenses: ExpenseService,
        expense_id: UUID,
    ) -> ExpenseRead:
        """One of my expenses."""
        return expense_read(await expenses.get(request.user.id, expense_id))

    @patch("/{expense_id:uuid}", operation_id="UpdateExpense")
    async def update_expense(
        self,
        request: Request[CurrentUser, Token, Any],
        expenses: ExpenseService,
        expense_id: UUID,
        data: ExpenseUpdate,
    ) -> ExpenseRead:
        """Change only the fields sent; null clears `note`."""
        return expense_read(await expenses.update(request.user.id, expense_id, data))

    @delete("/{expense_id:uuid}", operation_id="DeleteExpense", status_code=HTTP_204_NO_CONTENT)
    async def delete_expense(
        self,
        request: Request[CurrentUser, Token, Any],
        expenses: ExpenseService,
        expense_id: UUID,
    ) -> None:
        """Delete one of my expenses."""
        await expenses.delete(request.user.id, expense_id)
