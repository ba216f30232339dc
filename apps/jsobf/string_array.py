"""The string array: every string literal moves into one rotated array read by an accessor.

At `medium` and `high` each entry is also encoded: its UTF-16 code units are XORed with a
key stream that depends on the entry's index, then written three characters per unit in a
shuffled 64-letter alphabet. The accessor decodes an entry on first use and caches it.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from apps.jsobf.literals import encode_string_literal

_ALPHABET = string.ascii_letters + string.digits + "$_"


class StringArray:
    """Collects string values in first-use order and writes the runtime that serves them."""

    def __init__(self, rng: random.Random, fresh_name: Callable[[], str], *, encode: bool) -> None:
        self.encode = encode
        self.values: list[tuple[int, ...]] = []
        self._index: dict[tuple[int, ...], int] = {}
        self.array_name = fresh_name()
        self.accessor_name = fresh_name()
        self.cache_name = fresh_name()
        self.decoder_name = fresh_name()
        self.offset = rng.randrange(0x100, 0x400)
        self.rotation = rng.randrange(1, 0x40)
        letters = list(_ALPHABET)
        rng.shuffle(letters)
        self.alphabet = "".join(letters)
        self.keys = [rng.randrange(1, 0x10000) for _ in range(4)]

    def index_of(self, units: tuple[int, ...]) -> int:
        """The accessor argument (index plus offset) that returns `units`."""
        if units not in self._index:
            self._index[units] = len(self.values)
            self.values.append(units)
        return self._index[units] + self.offset

    def runtime(self) -> str:
        """The JavaScript that must run before any accessor call; empty when unused."""
        if not self.values:
            return ""
        count = len(self.values)
        shift = self.rotation % count
        stored = [self._entry(i, units) for i, units in enumerate(self.values)]
        stored = stored[count - shift :] + stored[: count - shift]
        array, get, cache = self.array_name, self.accessor_name, self.cache_name
        prelude = (
            f"var {array}=[{','.join(stored)}],{cache}=[];"
            f"(function(a,n){{while(n--)a.push(a.shift())}})({array},{self.rotation});"
        )
        if not self.encode:
            return prelude + f"function {get}(i){{return {array}[i-{self.offset}]}}"
        k0, k1, k2, k3 = self.keys
        decode = self.decoder_name
        # The accessor is a tiny cache read, small enough for V8 to inline at hot call sites;
        # the decoder runs once per entry.
        return prelude + (
            f"function {get}(i){{var v={cache}[i-{self.offset}];"
            f"return v!==void 0?v:{decode}(i-{self.offset})}}"
            f'function {decode}(i){{var s={array}[i],L="{self.alphabet}",o="",'
            f"k=({k0}+i*{k1})&65535;"
            "for(var j=0;j<s.length;j+=3){o+=String.fromCharCode((L.indexOf(s[j])<<12|"
            f"L.indexOf(s[j+1])<<6|L.indexOf(s[j+2]))^k);k=(k*{k2}+{k3})&65535}}"
            f"return {cache}[i]=o}}"
        )

    def _entry(self, index: int, units: tuple[int, ...]) -> str:
        if not self.encode:
            return encode_string_literal(units)
        k0, k1, k2, k3 = self.keys
        key = (k0 + index * k1) & 0xFFFF
        letters = []
        for unit in units:
            code = unit ^ key
            letters.append(self.alphabet[code >> 12])
            letters.append(self.alphabet[(code >> 6) & 63])
            letters.append(self.alphabet[code & 63])
            key = (key * k2 + k3) & 0xFFFF
        return '"' + "".join(letters) + '"'
