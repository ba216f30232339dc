"""Short codes: a sequence number scrambled by a keyed permutation, written in base62.

Distinct sequence numbers give distinct codes by construction (the permutation is a
bijection), and consecutive numbers give unrelated-looking codes, so nobody can walk the
links in creation order. The permutation is a 4-round Feistel network on 42 bits, keyed
with BLAKE2b, restricted to the 62**7 seven-character codes by cycle walking.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterator

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CODE_LENGTH = 7
CODE_SPACE = len(ALPHABET) ** CODE_LENGTH
"""How many distinct codes exist (about 3.5 * 10**12)."""

ALIAS_PATTERN = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
_HALF_BITS = 21
_HALF_MASK = (1 << _HALF_BITS) - 1
assert (1 << (2 * _HALF_BITS)) >= CODE_SPACE

SHORTENER_WORDS = frozenset(
    {
        "about",
        "admin",
        "api",
        "app",
        "assets",
        "docs",
        "favicon.ico",
        "help",
        "login",
        "logout",
        "openapi",
        "robots.txt",
        "shortener",
        "signup",
        "static",
        "swagger",
        "well-known",
        ".well-known",
        "www",
    }
)
"""Words the shortener keeps for itself besides the gateway's first path segments."""


def _round_keys(key: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    first, second, third, fourth = (
        hashlib.blake2b(bytes([i]), key=key[:64], digest_size=16).digest() for i in range(4)
    )
    return first, second, third, fourth


class CodePermutation:
    """A keyed bijection of [0, CODE_SPACE) onto itself, and its base62 spelling.

    Each Feistel round function is BLAKE2b over (round key || right half): a keyed PRF in a
    single compression, written out inline because a million codes must take seconds.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the code key must be at least 16 bytes long")
        self._keys = _round_keys(key)

    def _feistel(self, value: int) -> int:
        blake, from_bytes, mask = hashlib.blake2b, int.from_bytes, _HALF_MASK
        k0, k1, k2, k3 = self._keys
        left, right = value >> _HALF_BITS, value & mask
        digest = blake(k0 + right.to_bytes(3, "big"), digest_size=3).digest()
        left, right = right, left ^ (from_bytes(digest, "big") & mask)
        digest = blake(k1 + right.to_bytes(3, "big"), digest_size=3).digest()
        left, right = right, left ^ (from_bytes(digest, "big") & mask)
        digest = blake(k2 + right.to_bytes(3, "big"), digest_size=3).digest()
        left, right = right, left ^ (from_bytes(digest, "big") & mask)
        digest = blake(k3 + right.to_bytes(3, "big"), digest_size=3).digest()
        left, right = right, left ^ (from_bytes(digest, "big") & mask)
        return (left << _HALF_BITS) | right

    def scramble(self, number: int) -> int:
        """The image of `number` in [0, CODE_SPACE): cycle-walk until the value falls inside."""
        if not 0 <= number < CODE_SPACE:
            raise ValueError(f"sequence number {number} is outside the code space")
        value = self._feistel(number)
        while value >= CODE_SPACE:
            value = self._feistel(value)
        return value

    def code(self, number: int) -> str:
        """The 7-character code of sequence number `number`."""
        return encode(self.scramble(number))

    def codes(self, start: int, count: int) -> list[str]:
        """The codes of `start`, `start + 1`, ... (`count` of them): `code()` in one loop."""
        if count < 0 or not 0 <= start <= CODE_SPACE - count:
            raise ValueError("the numbers run outside the code space")
        blake, from_bytes, mask, space = hashlib.blake2b, int.from_bytes, _HALF_MASK, CODE_SPACE
        k0, k1, k2, k3 = self._keys
        alphabet = ALPHABET
        out: list[str] = []
        for value in range(start, start + count):
            while True:
                left, right = value >> _HALF_BITS, value & mask
                digest = blake(k0 + right.to_bytes(3, "big"), digest_size=3).digest()
                left, right = right, left ^ (from_bytes(digest, "big") & mask)
                digest = blake(k1 + right.to_bytes(3, "big"), digest_size=3).digest()
                left, right = right, left ^ (from_bytes(digest, "big") & mask)
                digest = blake(k2 + right.to_bytes(3, "big"), digest_size=3).digest()
                left, right = right, left ^ (from_bytes(digest, "big") & mask)
                digest = blake(k3 + right.to_bytes(3, "big"), digest_size=3).digest()
                left, right = right, left ^ (from_bytes(digest, "big") & mask)
                value = (left << _HALF_BITS) | right
                if value < space:
                    break
            chars = []
            for _ in range(CODE_LENGTH):
                value, digit = divmod(value, 62)
                chars.append(alphabet[digit])
            chars.reverse()
            out.append("".join(chars))
        return out


def encode(value: int) -> str:
    """`value` in base62, most significant digit first, left-padded to CODE_LENGTH."""
    if not 0 <= value < CODE_SPACE:
        raise ValueError("value does not fit in a code")
    chars = []
    for _ in range(CODE_LENGTH):
        value, digit = divmod(value, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def is_reserved(word: str, reserved: Collection[str]) -> bool:
    """Whether `word` clashes, ignoring case, with a reserved word."""
    return word.lower() in reserved


def codes_from(
    permutation: CodePermutation, start: int, reserved: Collection[str], *, chunk: int = 4096
) -> Iterator[tuple[int, str]]:
    """(sequence number, code) from `start` on, skipping codes that are reserved words."""
    number = start
    while number < CODE_SPACE:
        size = min(chunk, CODE_SPACE - number)
        for offset, code in enumerate(permutation.codes(number, size)):
            if not is_reserved(code, reserved):
                yield number + offset, code
        number += size
