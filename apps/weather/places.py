"""What a user may ask the weather of, and the one spelling of it the cache is keyed by.

`Paris`, ` paris `, `PARIS` and `Paris,  FR` vs `paris,fr` must share a cache entry, and the
provider is asked with exactly that normalised spelling, so one key always means one answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from apps.kernel.errors import Invalid

MAX_LOCATION_LENGTH = 100
ALLOWED_PUNCTUATION = frozenset(" ,.'-()")
_COORDINATES = re.compile(r"^([+-]?\d{1,3}(?:\.\d+)?),([+-]?\d{1,3}(?:\.\d+)?)$")
_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
FIELD = "location"


@dataclass(frozen=True)
class Place:
    """A validated location: a place name (with optional region/country) or coordinates."""

    query: str
    """The normalised spelling: lower case, single spaces, no spaces around commas."""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def is_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def name(self) -> str:
        """The place itself, without the region or country after the first comma."""
        return self.query.split(",", 1)[0]

    @property
    def qualifiers(self) -> tuple[str, ...]:
        """What follows the name (`fr`, `texas`, ...), used to choose among namesakes."""
        return tuple(part for part in self.query.split(",")[1:] if part)


def _allowed(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in {"L", "M"} or category == "Nd" or char in ALLOWED_PUNCTUATION


def _coordinates(text: str) -> Place | None:
    match = _COORDINATES.match(text)
    if match is None:
        return None
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if not -90 <= latitude <= 90:
        raise Invalid(FIELD, f"latitude {latitude} is outside -90..90")
    if not -180 <= longitude <= 180:
        raise Invalid(FIELD, f"longitude {longitude} is outside -180..180")
    # Four decimals is about 11 m: finer spellings of one spot share one cache entry.
    latitude, longitude = round(latitude, 4) + 0.0, round(longitude, 4) + 0.0
    return Place(f"{latitude:.4f},{longitude:.4f}", latitude, longitude)


def parse_place(raw: str) -> Place:
    """Validate and normalise a location; raises Invalid naming `location` with the reason."""
    if len(raw) > 2 * MAX_LOCATION_LENGTH:
        raise Invalid(FIELD, f"location is at most {MAX_LOCATION_LENGTH} characters long")
    text = unicodedata.normalize("NFKC", raw).translate(_APOSTROPHES)
    text = _SPACES.sub(" ", text).strip()
    text = ",".join(part.strip() for part in text.split(",")).casefold()
    if not text:
        raise Invalid(FIELD, "location is empty: give a place name or 'latitude,longitude'")
    if len(text) > MAX_LOCATION_LENGTH:
        raise Invalid(FIELD, f"location is at most {MAX_LOCATION_LENGTH} characters long")
    bad = next((char for char in text if not _allowed(char)), None)
    if bad is not None:
        raise Invalid(
            FIELD,
            f"location may hold letters, digits, spaces and , . ' - ( ) only; found {bad!r}",
        )
    if not any(char.isalnum() for char in text):
        raise Invalid(FIELD, "location must contain a letter or a digit")
    if text.startswith(",") or ",," in text:
        raise Invalid(FIELD, "location has an empty part between commas")
    return _coordinates(text) or Place(text.rstrip(","))
