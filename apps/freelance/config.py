"""User settings kept in the database, with environment overrides and defaults.

Precedence, highest first: a command's own option, the environment (`FREELANCE_DATE_ORDER`,
`FREELANCE_ON_START`), `freelance config KEY VALUE`, then the default (the date order of the
locale, stop the running timer, no rounding).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from apps.freelance.billing import RoundingRule, RoundMode, RoundPer, parse_rounding
from apps.freelance.errors import InvalidInput
from apps.freelance.store import OnStart, Store
from apps.freelance.timeparse import DateOrder, locale_date_order


def _choice(*allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        value = value.lower()
        if value not in allowed:
            raise InvalidInput(f"{value!r} must be one of: {', '.join(allowed)}")
        return value

    return check


def _minutes(value: str) -> str:
    parse_rounding(value, "up", "entry")
    return str(int(value))


def _currency(value: str) -> str:
    if len(value) != 3 or not value.isalpha():
        raise InvalidInput(f"{value!r} is not a three-letter currency code such as EUR")
    return value.upper()


@dataclass(frozen=True)
class Key:
    check: Callable[[str], str]
    default: str
    env: str | None
    help: str


KEYS: dict[str, Key] = {
    "date-order": Key(
        _choice("locale", *DateOrder), "locale", "FREELANCE_DATE_ORDER", "how 1/2/24 is read"
    ),
    "on-start": Key(
        _choice(*OnStart), "stop", "FREELANCE_ON_START", "start while a timer runs: stop|refuse"
    ),
    "round": Key(_minutes, "0", None, "bill in increments of N minutes (0 = exact)"),
    "round-mode": Key(_choice(*RoundMode), "up", None, "up|nearest|down"),
    "round-per": Key(_choice(*RoundPer), "entry", None, "round each entry or the total"),
    "currency": Key(_currency, "", None, "currency of rates that name none, e.g. EUR"),
}


@dataclass(frozen=True)
class Config:
    date_order: DateOrder
    on_start: OnStart
    rounding: RoundingRule
    currency: str | None


def effective(store: Store) -> dict[str, tuple[str, str]]:
    """Every key's value and where it came from (option > env > database > default)."""
    saved = store.settings()
    values: dict[str, tuple[str, str]] = {}
    for name, key in KEYS.items():
        env_value = os.environ.get(key.env, "").strip() if key.env else ""
        if env_value:
            values[name] = (key.check(env_value), f"${key.env}")
        elif name in saved:
            values[name] = (saved[name], "config")
        else:
            values[name] = (key.default, "default")
    return values


def load_config(store: Store) -> Config:
    values = {name: value for name, (value, _) in effective(store).items()}
    order = values["date-order"]
    return Config(
        date_order=locale_date_order() if order == "locale" else DateOrder(order),
        on_start=OnStart(values["on-start"]),
        rounding=parse_rounding(values["round"], values["round-mode"], values["round-per"]),
        currency=values["currency"] or None,
    )


def set_value(store: Store, name: str, value: str | None) -> str | None:
    """Validate and save one key (None resets it to its default)."""
    key = KEYS.get(name)
    if key is None:
        raise InvalidInput(f"unknown setting {name!r}; known: {', '.join(KEYS)}")
    checked = key.check(value) if value is not None else None
    store.set_setting(name, checked)
    return checked
