"""Quiet hours: a daily window of local time (it may cross midnight) in the user's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apps.kernel.errors import Invalid


def zone(name: str, field: str = "timezone") -> ZoneInfo:
    """The IANA zone `name`; Invalid naming `field` when there is no such zone."""
    if name not in _zones():
        raise Invalid(field, f"{name!r} is not an IANA time zone (e.g. Europe/Paris)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(field, f"{name!r} is not an IANA time zone (e.g. Europe/Paris)") from None


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones() | {"UTC"})
    return _ZONES


def parse_clock(text: str, field: str) -> int:
    """`"22:30"` as minutes since midnight."""
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise Invalid(field, f"{text!r} is not a time of day such as 22:30") from None
    return parsed.hour * 60 + parsed.minute


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def quiet_window(
    timezone: str, start: int | None, end: int | None, at: datetime
) -> tuple[datetime, datetime] | None:
    """The quiet window (UTC start, UTC end) that contains `at`, or None outside quiet hours."""
    if start is None or end is None or start == end:
        return None
    tz = ZoneInfo(timezone)
    local = at.astimezone(tz)
    for day in (local.date() - timedelta(days=1), local.date()):
        begins = datetime.combine(day, time(start // 60, start % 60), tz)
        end_day = day if end > start else day + timedelta(days=1)
        ends = datetime.combine(end_day, time(end // 60, end % 60), tz)
        if begins <= local < ends:
            return begins.astimezone(UTC), ends.astimezone(UTC)
    return None
