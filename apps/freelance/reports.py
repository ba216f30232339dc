"""Reports: which chunks of time fall in a period, per project, per local day or week.

Entries are clipped to the period and a running timer counts up to now. A chunk that crosses
local midnight is split at the local day boundary, so a day across a DST change holds 23 or
25 hours. Totals are exact seconds; billable seconds follow the rounding rule.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any

from apps.freelance.billing import RoundingRule, amount
from apps.freelance.clock import day_start, week_start, zone_name
from apps.freelance.store import Entry, Store
from apps.freelance.timeparse import Period

ALL = "all"


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class Slice:
    """The part of one entry that lies inside the report's period."""

    entry: Entry
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True)
class ProjectLine:
    project: str
    seconds: int
    billable_seconds: int
    rate: Decimal | None
    currency: str | None

    @property
    def amount(self) -> Decimal:
        return amount(self.billable_seconds, self.rate)


@dataclass
class Report:
    subject: str
    period: Period
    zone: tzinfo
    rule: RoundingRule
    slices: list[Slice]
    lines: list[ProjectLine]
    days: dict[date, dict[str, int]]

    @property
    def total_seconds(self) -> int:
        return sum(line.seconds for line in self.lines)

    @property
    def billable_seconds(self) -> int:
        return sum(line.billable_seconds for line in self.lines)

    @property
    def amounts(self) -> dict[str | None, Decimal]:
        """Billable amount per currency (None: rates that name no currency)."""
        totals: dict[str | None, Decimal] = {}
        for line in self.lines:
            if line.rate is not None:
                totals[line.currency] = totals.get(line.currency, Decimal("0.00")) + line.amount
        return totals

    @property
    def billable_amount(self) -> Decimal | None:
        """The total to bill; None when the rates are in different currencies."""
        amounts = self.amounts
        if len(amounts) > 1:
            return None
        return next(iter(amounts.values()), Decimal("0.00"))

    @property
    def currency(self) -> str | None:
        """The one currency of the billed projects; None when unknown or mixed."""
        found = list(self.amounts)
        return found[0] if len(found) == 1 else None

    def amount_text(self) -> str:
        """`1,234.50 EUR`, or `100.00 USD + 964.55 EUR` for mixed currencies."""
        if not self.amounts:
            return money(Decimal("0.00"), None)
        return " + ".join(money(value, currency) for currency, value in self.amounts.items())

    @property
    def unrated(self) -> list[str]:
        return [line.project for line in self.lines if line.rate is None and line.seconds]

    @property
    def first_day(self) -> date | None:
        if self.period.start is not None:
            return self.period.start.astimezone(self.zone).date()
        return min(self.days) if self.days else None

    @property
    def last_day(self) -> date:
        return (self.period.end - timedelta(seconds=1)).astimezone(self.zone).date()

    def by_day(self) -> list[tuple[date, int]]:
        return [(day, sum(per.values())) for day, per in sorted(self.days.items())]

    def buckets(self, by: Bucket) -> list[tuple[date, dict[str, int]]]:
        """Seconds per project in each day, or each week (keyed by its Monday)."""
        if by is Bucket.DAY:
            return sorted(self.days.items())
        weeks: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for day, per in self.days.items():
            for project, seconds in per.items():
                weeks[week_start(day)][project] += seconds
        return sorted((week, dict(per)) for week, per in weeks.items())


def split_by_day(start: datetime, end: datetime, zone: tzinfo) -> Iterator[tuple[date, int]]:
    """Seconds of [start, end) on each local calendar day."""
    cursor = start
    while cursor < end:
        day = cursor.astimezone(zone).date()
        boundary = min(end, day_start(day + timedelta(days=1), zone))
        yield day, int((boundary - cursor).total_seconds())
        cursor = boundary


def build_report(
    store: Store,
    subject: str,
    period: Period,
    rule: RoundingRule,
    now: datetime,
    *,
    tag: str | None = None,
    default_currency: str | None = None,
) -> Report:
    """Gather the period's chunks for one project (or `all`) and total them."""
    project = None if subject.lower() == ALL else store.project(subject).name
    slices = []
    for entry in store.entries_overlapping(period.start, period.end, project):
        if tag is not None and tag not in entry.tags:
            continue
        start = max(entry.start, period.start) if period.start else entry.start
        end = min(entry.end or now, period.end)
        if end > start:
            slices.append(Slice(entry, start, end))
    days: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    pieces: dict[str, list[int]] = defaultdict(list)
    for piece in slices:
        pieces[piece.entry.project].append(piece.seconds)
        for day, seconds in split_by_day(piece.start, piece.end, store.zone):
            days[day][piece.entry.project] += seconds
    rates = {p.name: p for p in store.projects()}
    lines = [
        ProjectLine(
            project=name,
            seconds=sum(chunks),
            billable_seconds=rule.billable(chunks),
            rate=rates[name].rate,
            currency=rates[name].currency or default_currency,
        )
        for name, chunks in sorted(pieces.items(), key=lambda item: item[0].lower())
    ]
    return Report(
        subject=project or ALL,
        period=period,
        zone=store.zone,
        rule=rule,
        slices=slices,
        lines=lines,
        days={day: dict(per) for day, per in days.items()},
    )


def _iso(instant: datetime | None, zone: tzinfo) -> str | None:
    return instant.astimezone(zone).isoformat() if instant else None


def report_json(report: Report, by: Bucket = Bucket.DAY) -> dict[str, Any]:
    """The `--json` document; `from`/`to` are local ISO 8601, `to` exclusive."""
    zone = report.zone
    document: dict[str, Any] = {
        "project": report.subject,
        "from": _iso(report.period.start, zone),
        "to": _iso(report.period.end, zone),
        "period": report.period.label,
        "notes": report.period.notes,
        "timezone": zone_name(zone),
        "total_seconds": report.total_seconds,
        "billable_seconds": report.billable_seconds,
        "billable_amount": (
            float(report.billable_amount) if report.billable_amount is not None else None
        ),
        "currency": report.currency,
        "amounts": [
            {"currency": currency, "amount": float(value)}
            for currency, value in report.amounts.items()
        ],
        "rounding": {
            "minutes": report.rule.minutes,
            "mode": report.rule.mode.value,
            "per": report.rule.per.value,
        },
        "by_day": [{"date": day.isoformat(), "seconds": sec} for day, sec in report.by_day()],
        "projects": [
            {
                "project": line.project,
                "total_seconds": line.seconds,
                "billable_seconds": line.billable_seconds,
                "rate": float(line.rate) if line.rate is not None else None,
                "currency": line.currency,
                "billable_amount": float(line.amount),
            }
            for line in report.lines
        ],
        "entries": [
            {
                "id": piece.entry.id,
                "project": piece.entry.project,
                "start": _iso(piece.entry.start, zone),
                "end": _iso(piece.entry.end, zone),
                "running": piece.entry.running,
                "seconds": piece.seconds,
                "tags": list(piece.entry.tags),
                "note": piece.entry.note,
            }
            for piece in report.slices
        ],
    }
    if by is Bucket.WEEK:
        document["by_week"] = [
            {"week_start": week.isoformat(), "seconds": sum(per.values())}
            for week, per in report.buckets(Bucket.WEEK)
        ]
    return document


def report_csv(report: Report, by: Bucket = Bucket.DAY) -> str:
    """One row per project per day (or week): spreadsheet-ready, exact seconds and hours."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([by.value if by is Bucket.DAY else "week_start", "project", "seconds", "hours"])
    for bucket, per in report.buckets(by):
        for project, seconds in sorted(per.items()):
            writer.writerow([bucket.isoformat(), project, seconds, f"{seconds / 3600:.2f}"])
    return out.getvalue()


def clock_hours(seconds: int) -> str:
    """7:05 for 7 h 5 min (seconds are not shown; they are kept in JSON and CSV)."""
    minutes = seconds // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def money(value: Decimal, currency: str | None) -> str:
    return f"{value:,.2f} {currency}" if currency else f"{value:,.2f}"
