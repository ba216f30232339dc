"""Totals per day across midnight and DST, rounding rules and amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.freelance.billing import RoundingRule, RoundMode, RoundPer, amount
from apps.freelance.reports import Bucket, build_report, report_csv, split_by_day
from apps.freelance.timeparse import DateOrder, Period, Reading, parse_period

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN).astimezone(UTC)


def everything() -> Period:
    return Period(None, NOW, "all time")


def test_a_session_over_midnight_splits_at_local_midnight(store):
    store.add_entry("night", berlin(2026, 1, 5, 22, 0), berlin(2026, 1, 6, 2, 30))
    report = build_report(store, "night", everything(), RoundingRule(), NOW)
    assert report.by_day() == [(date(2026, 1, 5), 2 * 3600), (date(2026, 1, 6), 2.5 * 3600)]
    assert report.total_seconds == 4.5 * 3600


def test_midnight_is_local_not_utc():
    # 23:30 to 00:30 Berlin in winter is 22:30 to 23:30 UTC: one UTC day, two local days.
    pieces = list(split_by_day(berlin(2026, 1, 5, 23, 30), berlin(2026, 1, 6, 0, 30), BERLIN))
    assert pieces == [(date(2026, 1, 5), 1800), (date(2026, 1, 6), 1800)]


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_dst_days_hold_23_or_25_hours(store, day, hours):
    start = berlin(day.year, day.month, day.day, 0, 0)
    end = berlin(day.year, day.month, day.day + 1, 0, 0)
    store.add_entry("marathon", start, end)
    report = build_report(store, "marathon", everything(), RoundingRule(), NOW)
    assert report.by_day() == [(day, hours * 3600)]


def test_two_wall_clock_hours_across_spring_forward_are_one_real_hour(store):
    store.add_entry("p", berlin(2026, 3, 29, 1, 30), berlin(2026, 3, 29, 3, 30))
    report = build_report(store, "p", everything(), RoundingRule(), NOW)
    assert report.total_seconds == 3600


def test_entries_are_clipped_to_the_period(store):
    store.add_entry("p", berlin(2026, 1, 5, 22, 0), berlin(2026, 1, 6, 2, 0))
    reading = Reading(now=NOW, zone=BERLIN, order=DateOrder.DMY)
    report = build_report(store, "p", parse_period(["6/1/26"], reading), RoundingRule(), NOW)
    assert report.total_seconds == 2 * 3600
    assert [piece.seconds for piece in report.slices] == [7200]


def test_a_running_timer_counts_up_to_now(store):
    store.start_timer("live", berlin(2026, 12, 1, 11, 0))
    report = build_report(store, "live", everything(), RoundingRule(), NOW)
    assert report.total_seconds == 2 * 3600  # 11:00 CET is 10:00 UTC, now is 12:00 UTC


def test_other_projects_are_not_counted(store):
    store.add_entry("a", berlin(2026, 1, 5, 9, 0), berlin(2026, 1, 5, 10, 0))
    store.add_entry("b", berlin(2026, 1, 5, 10, 0), berlin(2026, 1, 5, 12, 0))
    assert build_report(store, "a", everything(), RoundingRule(), NOW).total_seconds == 3600
    assert build_report(store, "all", everything(), RoundingRule(), NOW).total_seconds == 3 * 3600


@pytest.mark.parametrize(
    ("minutes", "mode", "seconds", "expected_minutes"),
    [
        (15, RoundMode.UP, 61, 15),
        (15, RoundMode.DOWN, 14 * 60 + 59, 0),
        (15, RoundMode.NEAREST, 7 * 60 + 29, 0),
        (15, RoundMode.NEAREST, 7 * 60 + 30, 15),
        (6, RoundMode.UP, 6 * 60, 6),
        (6, RoundMode.UP, 6 * 60 + 1, 12),
        (0, RoundMode.UP, 61, 61 / 60),
    ],
)
def test_rounding_modes(minutes, mode, seconds, expected_minutes):
    assert RoundingRule(minutes, mode).round(seconds) == expected_minutes * 60


def test_rounding_per_entry_differs_from_rounding_the_total():
    chunks = [10 * 60, 10 * 60, 10 * 60]  # three 10-minute chunks
    assert RoundingRule(15, RoundMode.UP, RoundPer.ENTRY).billable(chunks) == 45 * 60
    assert RoundingRule(15, RoundMode.UP, RoundPer.TOTAL).billable(chunks) == 30 * 60


def test_billable_amount_uses_rounded_time_and_the_project_rate(store):
    store.set_rate("client", Decimal("85"), "EUR")
    for hour in (9, 11, 13):
        store.add_entry("client", berlin(2026, 1, 5, hour, 0), berlin(2026, 1, 5, hour, 10))
    exact = build_report(store, "client", everything(), RoundingRule(), NOW)
    quarter = build_report(store, "client", everything(), RoundingRule(15), NOW)
    assert exact.billable_amount == Decimal("42.50")
    assert quarter.billable_seconds == 45 * 60
    assert quarter.billable_amount == Decimal("63.75")
    assert quarter.currency == "EUR"


def test_amounts_in_different_currencies_are_not_added(store):
    store.set_rate("a", Decimal("100"), "USD")
    store.set_rate("b", Decimal("100"), "EUR")
    store.add_entry("a", berlin(2026, 1, 5, 9, 0), berlin(2026, 1, 5, 10, 0))
    store.add_entry("b", berlin(2026, 1, 5, 10, 0), berlin(2026, 1, 5, 11, 0))
    report = build_report(store, "all", everything(), RoundingRule(), NOW)
    assert report.billable_amount is None
    assert report.amount_text() == "100.00 USD + 100.00 EUR"


def test_amount_rounds_half_up_to_the_cent():
    assert amount(1, Decimal("90")) == Decimal("0.03")  # 0.025 -> 0.03
    assert amount(3600, None) == Decimal("0.00")


def test_weeks_group_by_monday_and_csv_has_one_row_per_bucket_and_project(store):
    store.add_entry("p", berlin(2026, 1, 4, 9, 0), berlin(2026, 1, 4, 10, 0))  # a Sunday
    store.add_entry("p", berlin(2026, 1, 5, 9, 0), berlin(2026, 1, 5, 11, 0))  # Monday
    store.add_entry("p", berlin(2026, 1, 9, 9, 0), berlin(2026, 1, 9, 10, 0))  # Friday
    report = build_report(store, "p", everything(), RoundingRule(), NOW)
    weeks = report.buckets(Bucket.WEEK)
    assert [(week, per["p"]) for week, per in weeks] == [
        (date(2025, 12, 29), 3600),
        (date(2026, 1, 5), 3 * 3600),
    ]
    assert report_csv(report, Bucket.WEEK).splitlines() == [
        "week_start,project,seconds,hours",
        "2025-12-29,p,3600,1.00",
        "2026-01-05,p,10800,3.00",
    ]


def test_a_timer_left_running_over_midnight_splits_by_day(store):
    # Started 22:00 CET on 30 November; "now" is 13:00 CET on 1 December.
    store.start_timer("late", berlin(2026, 11, 30, 22, 0))
    report = build_report(store, "late", everything(), RoundingRule(), NOW)
    assert report.by_day() == [(date(2026, 11, 30), 2 * 3600), (date(2026, 12, 1), 13 * 3600)]


def test_a_night_across_midnight_and_spring_forward_splits_into_real_hours(store):
    # 22:00 CET to 04:00 CEST is five real hours: two before midnight, three after.
    store.add_entry("night", berlin(2026, 3, 28, 22, 0), berlin(2026, 3, 29, 4, 0))
    report = build_report(store, "night", everything(), RoundingRule(), NOW)
    assert report.by_day() == [(date(2026, 3, 28), 2 * 3600), (date(2026, 3, 29), 3 * 3600)]
