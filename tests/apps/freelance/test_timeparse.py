"""Reading dates, times, periods and rates the way the brief asks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.freelance.errors import InvalidInput
from apps.freelance.timeparse import (
    DateOrder,
    Reading,
    date_order_from_format,
    parse_moment,
    parse_period,
    parse_rate,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 30, 10, 0, tzinfo=UTC)  # Monday 12:00 in Berlin


def reading(order: DateOrder = DateOrder.DMY) -> Reading:
    return Reading(now=NOW, zone=BERLIN, order=order)


def local(instant: datetime) -> datetime:
    return instant.astimezone(BERLIN).replace(tzinfo=None)


def test_ambiguous_slashed_date_follows_the_configured_order():
    day_first = parse_period(["since", "1/2/24"], reading(DateOrder.DMY))
    month_first = parse_period(["since", "1/2/24"], reading(DateOrder.MDY))
    assert local(day_first.start) == datetime(2024, 2, 1)
    assert local(month_first.start) == datetime(2024, 1, 2)


def test_the_reading_of_an_ambiguous_date_is_recorded_for_the_header():
    period = parse_period(["since", "1/2/24"], reading(DateOrder.DMY))
    assert period.notes == ["read '1/2/24' as 1 February 2024 (day/month/year order)"]
    assert period.label == "since 2024-02-01"


def test_a_date_impossible_in_the_configured_order_is_refused():
    with pytest.raises(InvalidInput, match="month/day/year order"):
        parse_moment("13/2/24", reading(DateOrder.MDY))
    assert parse_moment("13/2/24", reading(DateOrder.DMY)).date_only


def test_a_four_digit_first_part_is_always_year_first():
    moment = parse_moment("2024/02/01", reading(DateOrder.MDY))
    assert local(moment.instant) == datetime(2024, 2, 1)


@pytest.mark.parametrize(
    ("fmt", "order"),
    [
        ("%m/%d/%y", DateOrder.MDY),
        ("%d.%m.%Y", DateOrder.DMY),
        ("%Y-%m-%d", DateOrder.YMD),
        ("%d/%m/%Y", DateOrder.DMY),
    ],
)
def test_default_order_comes_from_the_locale_date_format(fmt, order):
    assert date_order_from_format(fmt) is order


def test_hh_mm_means_today_in_the_local_zone():
    moment = parse_moment("9:30", reading())
    assert moment.instant == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)
    assert not moment.date_only


def test_iso_with_offset_is_taken_as_written():
    moment = parse_moment("2026-01-05T09:00:00+05:00", reading())
    assert moment.instant == datetime(2026, 1, 5, 4, 0, tzinfo=UTC)


def test_iso_without_offset_uses_the_zone_of_that_date():
    winter = parse_moment("2026-01-05 09:00", reading()).instant
    summer = parse_moment("2026-07-05 09:00", reading()).instant
    assert winter.hour == 8 and summer.hour == 7


def test_a_time_the_clocks_skip_is_refused():
    with pytest.raises(InvalidInput, match="does not exist"):
        parse_moment("2026-03-29 02:30", reading())


def test_a_time_that_happens_twice_means_the_first_one():
    moment = parse_moment("2026-10-25 02:30", reading())
    assert moment.instant == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_dst_day_period_is_23_hours_long():
    period = parse_period(["2026-03-29"], reading())
    assert (period.end - period.start).total_seconds() == 23 * 3600


def test_last_week_is_monday_to_monday_local():
    period = parse_period(["last", "week"], reading())
    assert local(period.start) == datetime(2026, 3, 23)
    assert local(period.end) == datetime(2026, 3, 30)


def test_this_month_and_named_months():
    assert local(parse_period(["this", "month"], reading()).start) == datetime(2026, 3, 1)
    feb = parse_period(["february", "2024"], reading())
    assert (local(feb.start), local(feb.end)) == (datetime(2024, 2, 1), datetime(2024, 3, 1))


def test_a_range_includes_its_last_day():
    period = parse_period(["2026-01-05..2026-01-09"], reading())
    assert local(period.end) == datetime(2026, 1, 10)


def test_a_moment_is_not_a_period():
    with pytest.raises(InvalidInput, match="not a period"):
        parse_period(["9:30"], reading())


def test_nonsense_is_refused_with_a_hint():
    with pytest.raises(InvalidInput, match="cannot read"):
        parse_moment("next tuesday-ish", reading())


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("85/h", "85", None),
        ("85.50", "85.50", None),
        ("€85/h", "85", "EUR"),
        ("85 usd/hour", "85", "USD"),
    ],
)
def test_rates(text, amount, currency):
    assert parse_rate(text) == (Decimal(amount), currency)


def test_bad_rate_is_refused():
    with pytest.raises(InvalidInput):
        parse_rate("eighty")
