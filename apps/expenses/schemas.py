"""Request and response shapes of the expense tracker API.

Amounts are exact decimals: sent as a JSON string ("12.30") or number (12.3), answered as a
string with two places. PATCH bodies tell an absent field from an explicit null with
`msgspec.UNSET`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from apps.kernel.fields import stored_text

Category = Literal[
    "Groceries", "Leisure", "Electronics", "Utilities", "Clothing", "Health", "Others"
]
Period = Literal["past_week", "last_month", "last_3_months", "custom"]

Amount = Annotated[
    Decimal,
    msgspec.Meta(
        description="More than 0, at most 2 decimal places, below 1,000,000,000",
        examples=["12.30"],
    ),
]
Currency = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=3,
        description="An ISO 4217 code (any case; stored upper-case)",
        examples=["EUR"],
    ),
]
Note = Annotated[str, stored_text(500)]


class ExpenseCreate(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    currency: Currency
    category: Category
    spent_on: date
    note: Note | None = None


class ExpenseUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields present change; null clears `note`."""

    amount: Amount | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    category: Category | UnsetType = UNSET
    spent_on: date | UnsetType = UNSET
    note: Note | UnsetType | None = UNSET


class ExpenseRead(msgspec.Struct):
    id: UUID
    amount: Annotated[str, msgspec.Meta(examples=["12.30"])]
    currency: str
    category: Category
    spent_on: date
    note: str | None
    created_at: datetime
    updated_at: datetime


class CurrencyTotal(msgspec.Struct):
    """What was spent in one currency; different currencies are never added together."""

    currency: str
    total: str
    count: int
    by_category: dict[str, str]
    """Every category, "0.00" where nothing was spent."""


class ExpenseSummary(msgspec.Struct):
    period: Period | None
    start: date | None
    end: date | None
    totals: list[CurrencyTotal]
