"""Constrained field types for request schemas, so the database never sees what it refuses.

Postgres rejects NUL characters in text and enforces column lengths that SQLite ignores;
declaring both in the schema makes bad input a 422 naming the field, on every database.
Use `Annotated[str, stored_text(200)]` for a String(200) column.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

NO_NUL = r"^[^\x00]*$"


def stored_text(
    max_length: int, *, min_length: int = 0, description: str | None = None
) -> msgspec.Meta:
    """Constraints of a text column of `max_length` characters: length, and no NUL character."""
    return msgspec.Meta(
        min_length=min_length, max_length=max_length, pattern=NO_NUL, description=description
    )


def ensure_storable(moment: datetime | None, field: str) -> None:
    """Refuse instants a column cannot hold faithfully: no zone, or outside 1900-9999."""
    from apps.kernel.errors import Invalid

    if moment is None:
        return
    if moment.tzinfo is None:
        raise Invalid(field, "Give a time zone offset, e.g. 2026-01-05T09:00:00Z")
    if not 1900 <= moment.year <= 9999:
        raise Invalid(field, "Dates must be between the years 1900 and 9999")
