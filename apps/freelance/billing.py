"""Rounding rules and billable amounts.

Freelancers bill in increments (6 minutes = a tenth of an hour, 15 minutes = a quarter), either
per entry (each chunk of work is rounded, as most timesheets do) or once on the total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from apps.freelance.errors import InvalidInput

CENT = Decimal("0.01")


class RoundMode(StrEnum):
    UP = "up"
    NEAREST = "nearest"
    DOWN = "down"


class RoundPer(StrEnum):
    ENTRY = "entry"
    TOTAL = "total"


@dataclass(frozen=True)
class RoundingRule:
    """Round to `minutes` (0 = exact) in `mode`, per entry or on the total."""

    minutes: int = 0
    mode: RoundMode = RoundMode.UP
    per: RoundPer = RoundPer.ENTRY

    def __post_init__(self) -> None:
        if not 0 <= self.minutes <= 24 * 60:
            raise InvalidInput("rounding must be between 0 and 1440 minutes")

    @property
    def label(self) -> str:
        if not self.minutes:
            return "exact"
        return f"{self.minutes} min, {self.mode.value}, per {self.per.value}"

    def round(self, seconds: int) -> int:
        """`seconds` rounded to the rule's increment."""
        if not self.minutes or seconds <= 0:
            return max(seconds, 0)
        step = self.minutes * 60
        whole, rest = divmod(seconds, step)
        if rest == 0:
            return seconds
        if self.mode is RoundMode.UP or (self.mode is RoundMode.NEAREST and rest * 2 >= step):
            whole += 1
        return whole * step

    def billable(self, entry_seconds: Iterable[int]) -> int:
        """Billable seconds of one project's entries under this rule."""
        pieces = list(entry_seconds)
        if self.per is RoundPer.ENTRY:
            return sum(self.round(piece) for piece in pieces)
        return self.round(sum(pieces))


def amount(seconds: int, rate: Decimal | None) -> Decimal:
    """What `seconds` of work cost at `rate` per hour, to the cent (half up)."""
    if rate is None:
        return Decimal("0.00")
    return (Decimal(seconds) * rate / Decimal(3600)).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_rounding(minutes: str, mode: str, per: str) -> RoundingRule:
    """Build a rule from typed values; one clear error per bad part."""
    try:
        count = int(minutes)
    except ValueError:
        raise InvalidInput(f"rounding {minutes!r} is not a whole number of minutes") from None
    try:
        round_mode = RoundMode(mode.lower())
    except ValueError:
        raise InvalidInput(f"rounding mode {mode!r} must be up, nearest or down") from None
    try:
        round_per = RoundPer(per.lower())
    except ValueError:
        raise InvalidInput(f"rounding per {per!r} must be entry or total") from None
    return RoundingRule(count, round_mode, round_per)
