"""Period arithmetic and amount/currency rules, tested on the service functions directly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.expenses.services import (
    DateRange,
    cents_to_text,
    normalise_amount,
    normalise_currency,
    resolve_period,
)
from apps.kernel.errors import Invalid

TODAY = date(2024, 3, 1)  # the day after a leap day: windows cross February 29


def test_past_week_is_the_last_seven_days_including_today():
    assert resolve_period("past_week", None, None, today=TODAY) == DateRange(
        date(2024, 2, 24), TODAY
    )


def test_last_month_is_the_last_thirty_days_including_today():
    assert resolve_period("last_month", None, None, today=TODAY) == DateRange(
        date(2024, 2, 1), TODAY
    )


def test_last_three_months_is_the_last_ninety_days_including_today():
    assert resolve_period("last_3_months", None, None, today=TODAY) == DateRange(
        date(2023, 12, 3), TODAY
    )


def test_no_period_means_all_time():
    assert resolve_period(None, None, None, today=TODAY) is None


def test_custom_period_uses_the_given_inclusive_bounds():
    one_day = resolve_period("custom", date(2020, 1, 1), date(2020, 1, 1), today=TODAY)
    assert one_day == DateRange(date(2020, 1, 1), date(2020, 1, 1))


@pytest.mark.parametrize(
    ("period", "start", "end", "field"),
    [
        ("custom", None, date(2024, 1, 1), "start"),
        ("custom", date(2024, 1, 1), None, "end"),
        ("custom", date(2024, 1, 2), date(2024, 1, 1), "end"),
        ("past_week", date(2024, 1, 1), None, "start"),
        ("last_month", None, date(2024, 1, 1), "end"),
        (None, date(2024, 1, 1), date(2024, 1, 2), "period"),
    ],
)
def test_bad_period_bounds_name_the_field(period, start, end, field):
    with pytest.raises(Invalid) as raised:
        resolve_period(period, start, end, today=TODAY)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (Decimal("12.3"), Decimal("12.30")),
        (Decimal("0.01"), Decimal("0.01")),
        (Decimal("12.300"), Decimal("12.30")),
        (Decimal("1E+2"), Decimal("100.00")),
        (Decimal("999999999.99"), Decimal("999999999.99")),
    ],
)
def test_amounts_keep_two_exact_places(raw, expected):
    normalised = normalise_amount(raw)
    assert normalised == expected
    assert normalised.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "raw",
    ["0", "-1.00", "0.001", "12.345", "1000000000", "1E+30", "NaN", "Infinity", "-Infinity"],
)
def test_bad_amounts_are_invalid_naming_amount(raw):
    with pytest.raises(Invalid) as raised:
        normalise_amount(Decimal(raw))
    assert raised.value.field == "amount"


def test_currency_is_upper_cased_and_checked_against_iso_4217():
    assert normalise_currency("eur") == "EUR"
    assert normalise_currency("JPY") == "JPY"
    for bad in ("ABC", "XXX", "EU1", "US$"):
        with pytest.raises(Invalid) as raised:
            normalise_currency(bad)
        assert raised.value.field == "currency"


def test_cents_become_two_place_text():
    assert cents_to_text(30) == "0.30"
    assert cents_to_text(5) == "0.05"
    assert cents_to_text(123456789012) == "1234567890.12"
