"""The local time zone and the current instant, both overridable for tests.

Instants are stored in UTC; the zone only decides how they are shown and where a day starts.
`TZ` (an IANA name such as `Europe/Berlin`) picks the zone, else the system's
`/etc/localtime`, else UTC. `FREELANCE_NOW` (ISO 8601) freezes the clock for tests and
reproducible reports.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apps.freelance.errors import InvalidInput

LOCALTIME = Path("/etc/localtime")


def local_zone() -> tzinfo:
    """The zone reports and day boundaries use: `TZ`, else the system zone, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":").strip()
    if name.startswith("/"):
        try:
            with Path(name).open("rb") as handle:
                return ZoneInfo.from_file(handle, key=name)
        except (OSError, ValueError):
            raise InvalidInput(f"TZ={name!r} is not a readable zoneinfo file") from None
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"TZ={name!r} is not a known IANA time zone") from None
    try:
        with LOCALTIME.open("rb") as handle:
            return ZoneInfo.from_file(handle, key=_localtime_key())
    except (OSError, ValueError):
        return UTC


def _localtime_key() -> str:
    try:
        target = str(LOCALTIME.resolve())
    except OSError:
        return "localtime"
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else "localtime"


def zone_name(zone: tzinfo) -> str:
    """A short name for headers: the IANA key when known."""
    return str(getattr(zone, "key", None) or zone)


def now_utc() -> datetime:
    """The current instant in UTC, whole seconds; `FREELANCE_NOW` overrides it."""
    frozen = os.environ.get("FREELANCE_NOW", "").strip()
    if frozen:
        try:
            parsed = datetime.fromisoformat(frozen)
        except ValueError:
            raise InvalidInput(f"FREELANCE_NOW={frozen!r} is not an ISO 8601 instant") from None
        if parsed.tzinfo is None:
            return localize(parsed, local_zone())
        return parsed.astimezone(UTC).replace(microsecond=0)
    return datetime.now(UTC).replace(microsecond=0)


def localize(wall: datetime, zone: tzinfo, *, strict: bool = True) -> datetime:
    """Turn a wall-clock time in `zone` into a UTC instant.

    A time the clocks skip (spring forward) is refused when strict; a time that happens twice
    (fall back) means its first occurrence.
    """
    aware = wall.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    if strict and instant.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise InvalidInput(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {zone_name(zone)} (the clocks skip it)"
        )
    return instant


def day_start(day: date, zone: tzinfo) -> datetime:
    """The UTC instant local `day` begins; days are 23 or 25 hours long across DST changes."""
    return localize(datetime.combine(day, time()), zone, strict=False)


def local_date(instant: datetime, zone: tzinfo) -> date:
    return instant.astimezone(zone).date()


def today(zone: tzinfo) -> date:
    return local_date(now_utc(), zone)


def week_start(day: date) -> date:
    """Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())
