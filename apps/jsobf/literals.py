"""JavaScript string literals as UTF-16 code units, the unit JS strings are made of."""

from __future__ import annotations

_SIMPLE_ESCAPES = {
    "n": 0x0A,
    "t": 0x09,
    "r": 0x0D,
    "b": 0x08,
    "f": 0x0C,
    "v": 0x0B,
}
_LINE_TERMINATORS = "\n\r\u2028\u2029"


def utf16_units(text: str) -> list[int]:
    """Code units of `text` as JavaScript sees them (astral characters become pairs)."""
    units: list[int] = []
    for char in text:
        point = ord(char)
        if point > 0xFFFF:
            point -= 0x10000
            units.extend((0xD800 + (point >> 10), 0xDC00 + (point & 0x3FF)))
        else:
            units.append(point)
    return units


def decode_string_literal(raw: str) -> tuple[int, ...]:
    """The value of a quoted JS string literal (`'...'` or `"..."`), escapes resolved."""
    return decode_string_body(raw[1:-1])


def decode_template_chunk(raw: str) -> tuple[int, ...]:
    """The cooked value of template text between backticks and substitutions: escapes
    resolved, and a CR or CRLF written in the source read as LF, as the spec says."""
    return decode_string_body(raw.replace("\r\n", "\n").replace("\r", "\n"))


def decode_string_body(body: str) -> tuple[int, ...]:
    """Resolve the escapes of literal text (without its quotes) into UTF-16 code units."""
    units: list[int] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            units.extend(utf16_units(char))
            i += 1
            continue
        escape = body[i + 1]
        i += 2
        if escape in _SIMPLE_ESCAPES:
            units.append(_SIMPLE_ESCAPES[escape])
        elif escape == "x":
            units.append(int(body[i : i + 2], 16))
            i += 2
        elif escape == "u" and body[i] == "{":
            end = body.index("}", i)
            units.extend(utf16_units(chr(int(body[i + 1 : end], 16))))
            i = end + 1
        elif escape == "u":
            units.append(int(body[i : i + 4], 16))
            i += 4
        elif escape in _LINE_TERMINATORS:
            if escape == "\r" and body[i : i + 1] == "\n":
                i += 1
        elif escape in "01234567":
            digits = escape
            limit = 3 if escape in "0123" else 2
            while len(digits) < limit and i < len(body) and body[i] in "01234567":
                digits += body[i]
                i += 1
            units.append(int(digits, 8))
        else:
            units.extend(utf16_units(escape))
    return tuple(units)


def encode_string_literal(units: tuple[int, ...] | list[int]) -> str:
    """A double-quoted ASCII-only JS literal whose value is exactly `units`."""
    parts = ['"']
    for unit in units:
        if 0x20 <= unit < 0x7F and unit not in (0x22, 0x5C):
            parts.append(chr(unit))
        elif unit == 0x0A:
            parts.append("\\n")
        else:
            parts.append(f"\\u{unit:04x}")
    parts.append('"')
    return "".join(parts)
