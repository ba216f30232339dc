"""Request and response shapes of the shortener API.

PATCH bodies tell an absent field (left as it is) from an explicit null (cleared) with
`msgspec.UNSET`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from apps.kernel.fields import stored_text

MAX_URL_LENGTH = 2048
MAX_VISITS_LIMIT = 2_000_000_000

RedirectType = Annotated[
    Literal[301, 302, 307, 308],
    msgspec.Meta(description="HTTP status of the redirect: 301/308 permanent, 302/307 temporary"),
]
TargetUrl = Annotated[
    str,
    stored_text(
        MAX_URL_LENGTH, min_length=1, description="An http or https URL of at most 2,048 characters"
    ),
]
Alias = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9_-]{3,32}$",
        description="A custom code: 3 to 32 letters, digits, '_' or '-'",
    ),
]
ExpiresAt = Annotated[
    datetime,
    msgspec.Meta(tz=True, description="When the link stops redirecting (RFC 3339 with offset)"),
]
MaxVisits = Annotated[
    int,
    msgspec.Meta(ge=1, le=MAX_VISITS_LIMIT, description="Redirects allowed before 410 Gone"),
]


class LinkCreate(msgspec.Struct, forbid_unknown_fields=True):
    url: TargetUrl
    alias: Alias | None = None
    expires_at: ExpiresAt | None = None
    max_visits: MaxVisits | None = None
    redirect_type: RedirectType = 302


class LinkUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields present change; null clears `expires_at` and `max_visits`."""

    url: TargetUrl | UnsetType = UNSET
    expires_at: ExpiresAt | UnsetType | None = UNSET
    max_visits: MaxVisits | UnsetType | None = UNSET
    redirect_type: RedirectType | UnsetType = UNSET


class LinkRead(msgspec.Struct):
    code: str
    short_url: str
    url: str
    redirect_type: int
    expires_at: datetime | None
    max_visits: int | None
    visits: int
    """Visits counted in the database; the last few seconds may still be in the buffer."""
    anonymous: bool
    created_at: datetime
    updated_at: datetime


class DayCount(msgspec.Struct):
    day: date
    visits: int


class ValueCount(msgspec.Struct):
    value: str
    visits: int


class LinkStats(msgspec.Struct):
    code: str
    total_visits: int
    by_day: list[DayCount]
    """The last `days` days that had visits, oldest first."""
    referrers: list[ValueCount]
    """Referrer hosts by visits (`direct` when no Referer was sent)."""
    browsers: list[ValueCount]
    """User-agent families by visits."""
    countries: list[ValueCount]
    """`unknown` until a GeoIP source is configured."""


class RowError(msgspec.Struct):
    line: int
    field: str
    detail: str


class ImportResult(msgspec.Struct):
    created: list[LinkRead]
    errors: list[RowError]
    """Rows that were not imported, each with its CSV line number and the field at fault."""
