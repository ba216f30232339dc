"""Which locations are accepted, and the one spelling the cache and the provider get."""

from __future__ import annotations

import pytest

from apps.kernel.errors import Invalid
from apps.weather.places import MAX_LOCATION_LENGTH, parse_place


@pytest.mark.parametrize(
    ("raw", "query"),
    [
        ("London", "london"),
        ("  LONDON  ", "london"),
        ("Paris ,  FR", "paris,fr"),
        ("New   York,\tUS", "new york,us"),
        ("São Paulo", "são paulo"),
        ("\uff34\uff4f\uff4b\uff59\uff4f", "tokyo"),  # full-width letters fold (NFKC)
        ("St. John\u2019s", "st. john's"),
        ("Stratford-upon-Avon (UK)", "stratford-upon-avon (uk)"),
        ("10001", "10001"),
        ("paris,", "paris"),
    ],
)
def test_spellings_of_one_place_share_one_query(raw: str, query: str) -> None:
    assert parse_place(raw).query == query


def test_name_and_qualifiers_split_at_commas() -> None:
    place = parse_place("Springfield, Illinois, US")
    assert (place.name, place.qualifiers) == ("springfield", ("illinois", "us"))


def test_coordinates_are_rounded_to_four_decimals() -> None:
    place = parse_place("48.856613, 2.352222")
    assert place.is_coordinates
    assert (place.latitude, place.longitude, place.query) == (48.8566, 2.3522, "48.8566,2.3522")
    assert parse_place("-33.8688,151.2093").query == "-33.8688,151.2093"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("<script>", "found '<'"),
        ("paris:fr", "found ':'"),
        ("a\x00b", "found '\\x00'"),
        ("x" * (MAX_LOCATION_LENGTH + 1), "at most 100"),
        ("x" * 1000, "at most 100"),
        ("-- ..", "letter or a digit"),
        ("paris,,fr", "empty part"),
        (",paris", "empty part"),
        ("91,10", "latitude 91.0"),
        ("45,181", "longitude 181.0"),
    ],
)
def test_bad_locations_are_invalid_naming_the_field(raw: str, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_place(raw)
    assert caught.value.field == "location"
    assert message in caught.value.detail
