"""Reading the dates, times, periods and rates people type.

Slashed dates follow an explicit day/month order (`dmy`, `mdy` or `ymd`); `1/2/24` is
ambiguous, so every reading is recorded in `notes` for the report header to show. A time of
day alone (`9:30`) means today; ISO 8601 (`2026-01-05 09:00`, with or without an offset) is
always accepted. Everything is turned into UTC instants with the local zone's rules.
"""

from __future__ import annotations

import contextlib
import locale
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from apps.freelance.clock import day_start, localize, week_start
from apps.freelance.errors import InvalidInput


class DateOrder(StrEnum):
    """How a slashed date such as 1/2/24 is read."""

    DMY = "dmy"
    MDY = "mdy"
    YMD = "ymd"

    @property
    def described(self) -> str:
        return {"dmy": "day/month/year", "mdy": "month/day/year", "ymd": "year/month/day"}[
            self.value
        ]


def locale_date_order() -> DateOrder:
    """The order the user's locale writes dates in (`LC_TIME`); month first when unknown."""
    with contextlib.suppress(locale.Error):
        locale.setlocale(locale.LC_TIME, "")
    langinfo = getattr(locale, "nl_langinfo", None)
    fmt = langinfo(locale.D_FMT) if langinfo else "%m/%d/%y"
    return date_order_from_format(fmt)


def date_order_from_format(fmt: str) -> DateOrder:
    """`%d.%m.%Y` -> dmy, `%m/%d/%y` -> mdy, `%Y-%m-%d` -> ymd."""
    day, month = fmt.find("%d"), fmt.find("%m")
    year = max(fmt.find("%y"), fmt.find("%Y"))
    if day < 0 or month < 0:
        return DateOrder.MDY
    if 0 <= year < min(day, month):
        return DateOrder.YMD
    return DateOrder.DMY if day < month else DateOrder.MDY


@dataclass(frozen=True)
class Reading:
    """Where the parsers need to be: the clock, the zone and the date order."""

    now: datetime
    zone: tzinfo
    order: DateOrder

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()


@dataclass
class ParsedMoment:
    instant: datetime
    date_only: bool
    note: str | None = None


@dataclass
class Period:
    """A half-open range of instants [start, end); start None means since the first entry."""

    start: datetime | None
    end: datetime
    label: str
    notes: list[str] = field(default_factory=list)


MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}

TIME_RE = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm)?$")
SLASHED_RE = re.compile(r"^(\d{1,4})[/.](\d{1,2})(?:[/.](\d{2,4}))?$")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
RANGE_RE = re.compile(r"^(?:from\s+)?(.+?)\s*(?:\.\.|\s+to\s+)\s*(.+)$", re.IGNORECASE)
BETWEEN_RE = re.compile(r"^between\s+(.+?)\s+and\s+(.+)$", re.IGNORECASE)


def parse_time_of_day(text: str) -> time | None:
    """`9:30`, `17:05:10`, `9am`, `5:30pm`; None when the text is not a time of day."""
    match = TIME_RE.match(text.strip().lower())
    if not match or (match.group(2) is None and match.group(4) is None):
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    second = int(match.group(3) or 0)
    meridiem = match.group(4)
    if meridiem:
        if not 1 <= hour <= 12:
            raise InvalidInput(f"{text!r}: hour must be 1-12 with am/pm")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidInput(f"{text!r} is not a time of day")
    return time(hour, minute, second)


def parse_date(text: str, reading: Reading) -> tuple[date, str | None] | None:
    """A calendar date and, for slashed dates, a note saying how it was read."""
    word = text.strip().lower()
    if word == "today":
        return reading.today, None
    if word == "yesterday":
        return reading.today - timedelta(days=1), None
    if ISO_DATE_RE.match(word):
        try:
            return date.fromisoformat(word), None
        except ValueError:
            raise InvalidInput(f"{text!r} is not a valid date") from None
    match = SLASHED_RE.match(word)
    if not match:
        return None
    return _slashed_date(text, match, reading)


def _slashed_date(text: str, match: re.Match[str], reading: Reading) -> tuple[date, str | None]:
    first, second, third = match.group(1), match.group(2), match.group(3)
    order = reading.order
    if len(first) == 4:
        order = DateOrder.YMD
    elif order is DateOrder.YMD and third is None:
        order = DateOrder.MDY  # year-first locales write a year-less date month first
    if order is DateOrder.YMD:
        if third is None:
            raise InvalidInput(f"{text!r}: year/month/day order needs all three parts")
        year, month, day = _full_year(first), int(second), int(third)
    else:
        day, month = (
            (int(first), int(second))
            if order is DateOrder.DMY
            else (
                int(second),
                int(first),
            )
        )
        year = _full_year(third) if third else reading.today.year
    try:
        value = date(year, month, day)
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a valid date in {order.described} order "
            "(change it with `freelance config date-order dmy|mdy|ymd`)"
        ) from None
    note = f"read {text!r} as {value:%-d %B %Y} ({order.described} order)"
    return value, note


def _full_year(text: str) -> int:
    year = int(text)
    return 2000 + year if len(text) <= 2 else year


def parse_moment(text: str, reading: Reading) -> ParsedMoment:
    """An instant: ISO 8601, `HH:MM` (today), or a date with an optional time after it."""
    raw = text.strip()
    if not raw:
        raise InvalidInput("empty date/time")
    iso = _parse_iso(raw, reading)
    if iso is not None:
        return iso
    words = raw.split()
    only_time = parse_time_of_day(raw)
    if only_time is not None:
        wall = datetime.combine(reading.today, only_time)
        return ParsedMoment(localize(wall, reading.zone), date_only=False)
    day_part, time_part = words[0], " ".join(words[1:])
    parsed = parse_date(day_part, reading)
    if parsed is None:
        raise InvalidInput(
            f"cannot read {text!r} as a date or time "
            "(try 2026-01-05 09:00, 9:30, yesterday 17:00 or 5/1/26)"
        )
    day, note = parsed
    if not time_part:
        return ParsedMoment(day_start(day, reading.zone), date_only=True, note=note)
    clock = parse_time_of_day(time_part)
    if clock is None:
        raise InvalidInput(f"cannot read {time_part!r} as a time of day in {text!r}")
    wall = datetime.combine(day, clock)
    return ParsedMoment(localize(wall, reading.zone), date_only=False, note=note)


def _parse_iso(raw: str, reading: Reading) -> ParsedMoment | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}.*)?$", raw):
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{raw!r} is not a valid ISO 8601 date/time") from None
    date_only = ISO_DATE_RE.match(raw) is not None
    if value.tzinfo is not None:
        return ParsedMoment(value.astimezone(UTC).replace(microsecond=0), date_only=False)
    if date_only:
        return ParsedMoment(day_start(value.date(), reading.zone), date_only=True)
    return ParsedMoment(localize(value.replace(microsecond=0), reading.zone), date_only=False)


def end_of(moment: ParsedMoment, reading: Reading) -> datetime:
    """The exclusive end a moment names: a bare date includes that whole day."""
    if moment.date_only:
        day = moment.instant.astimezone(reading.zone).date()
        return day_start(day + timedelta(days=1), reading.zone)
    return moment.instant


def parse_period(words: Sequence[str], reading: Reading) -> Period:
    """`today`, `last week`, `this month`, `since 1/2/24`, `2026-01`, `march 2025`,
    `last 7 days`, `from X to Y`, `X..Y`, `until X`, a single date, or nothing (all time)."""
    text = " ".join(words).strip()
    lowered = text.lower()
    zone, today = reading.zone, reading.today
    if lowered in {"", "all", "all time", "ever"}:
        return Period(None, reading.now, "all time")
    if lowered in {"today", "yesterday"}:
        day = today if lowered == "today" else today - timedelta(days=1)
        return _days(day, day, zone, f"{lowered} ({day.isoformat()})")
    named = _named_range(lowered, today)
    if named is not None:
        first, last = named
        return _days(first, last, zone, f"{lowered} ({first.isoformat()} to {last.isoformat()})")
    if lowered.startswith("since "):
        start = parse_moment(text[6:], reading)
        return Period(start.instant, reading.now, f"since {_show(start, reading)}", _notes(start))
    if lowered.startswith(("until ", "till ")):
        end = parse_moment(text.split(None, 1)[1], reading)
        return Period(None, end_of(end, reading), f"until {_show(end, reading)}", _notes(end))
    range_match = RANGE_RE.match(text) or BETWEEN_RE.match(text)
    if range_match:
        start = parse_moment(range_match.group(1), reading)
        end = parse_moment(range_match.group(2), reading)
        return _range(start, end, reading)
    month = _month(lowered, today)
    if month is not None:
        first, last = month
        return _days(first, last, zone, f"{first:%B %Y}")
    single = parse_moment(text, reading)
    if not single.date_only:
        raise InvalidInput(f"{text!r} is a moment, not a period; try `since {text}`")
    day = single.instant.astimezone(zone).date()
    period = _days(day, day, zone, day.isoformat())
    period.notes = _notes(single)
    return period


def period_from_bounds(start_text: str | None, end_text: str | None, reading: Reading) -> Period:
    """The period `--from`/`--to` name; a bare `--to` date includes that day."""
    start = parse_moment(start_text, reading) if start_text else None
    end = parse_moment(end_text, reading) if end_text else None
    if start and end:
        return _range(start, end, reading)
    if start:
        return Period(start.instant, reading.now, f"since {_show(start, reading)}", _notes(start))
    assert end is not None
    return Period(None, end_of(end, reading), f"until {_show(end, reading)}", _notes(end))


def _range(start: ParsedMoment, end: ParsedMoment, reading: Reading) -> Period:
    stop = end_of(end, reading)
    if stop <= start.instant:
        raise InvalidInput("the end of the period is not after its start")
    label = f"{_show(start, reading)} to {_show(end, reading)}"
    return Period(start.instant, stop, label, _notes(start) + _notes(end))


def _show(moment: ParsedMoment, reading: Reading) -> str:
    local = moment.instant.astimezone(reading.zone)
    return f"{local:%Y-%m-%d}" if moment.date_only else f"{local:%Y-%m-%d %H:%M}"


def _notes(moment: ParsedMoment) -> list[str]:
    return [moment.note] if moment.note else []


def _days(first: date, last: date, zone: tzinfo, label: str) -> Period:
    return Period(day_start(first, zone), day_start(last + timedelta(days=1), zone), label)


def _named_range(text: str, today: date) -> tuple[date, date] | None:
    match = re.match(r"^last (\d+) days?$", text)
    if match:
        count = int(match.group(1))
        if count < 1:
            raise InvalidInput("`last N days` needs N of at least 1")
        return today - timedelta(days=count - 1), today
    monday = week_start(today)
    month_first = today.replace(day=1)
    ranges = {
        "this week": (monday, monday + timedelta(days=6)),
        "last week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "this month": (month_first, _month_last(month_first)),
        "last month": (
            _month_first_before(month_first),
            month_first - timedelta(days=1),
        ),
        "this year": (date(today.year, 1, 1), date(today.year, 12, 31)),
        "last year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    }
    return ranges.get(text)


def _month(text: str, today: date) -> tuple[date, date] | None:
    match = MONTH_RE.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    else:
        parts = text.split()
        if not parts or parts[0] not in MONTHS or len(parts) > 2:
            return None
        month = MONTHS[parts[0]]
        if len(parts) == 2 and not parts[1].isdigit():
            return None
        year = int(parts[1]) if len(parts) == 2 else today.year
    if not 1 <= month <= 12:
        raise InvalidInput(f"{text!r}: month must be 01-12")
    first = date(year, month, 1)
    return first, _month_last(first)


def _month_last(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _month_first_before(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
RATE_RE = re.compile(
    r"^([$€£¥])?\s*(\d+(?:[.,]\d{1,4})?)\s*([A-Za-z]{3})?\s*(?:/\s*(?:h|hr|hour))?$"
)


def parse_rate(text: str) -> tuple[Decimal, str | None]:
    """`85/h`, `85.50`, `€85/h`, `85 EUR/h` -> (amount per hour, ISO currency or None)."""
    match = RATE_RE.match(text.strip())
    if not match:
        raise InvalidInput(f"cannot read {text!r} as an hourly rate (try 85/h or 85.50 EUR/h)")
    try:
        amount = Decimal(match.group(2).replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(f"cannot read {text!r} as an hourly rate") from None
    currency = match.group(3).upper() if match.group(3) else SYMBOLS.get(match.group(1) or "")
    return amount, currency
