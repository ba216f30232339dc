"""The code generator, as a pure function: collision-free, unordered, never a reserved word."""

from __future__ import annotations

import itertools
import time

import pytest

from apps.shortener.codes import (
    ALPHABET,
    CODE_LENGTH,
    CODE_SPACE,
    CodePermutation,
    codes_from,
    encode,
)

KEY = b"test-code-key-" + b"k" * 32


def _reserved() -> frozenset[str]:
    from apps.shortener.services import reserved_words

    return reserved_words()


def test_a_million_codes_have_no_collision_and_no_reserved_word():
    reserved = _reserved()
    started = time.perf_counter()
    codes = [
        code
        for _, code in itertools.islice(codes_from(CodePermutation(KEY), 0, reserved), 1_000_000)
    ]
    elapsed = time.perf_counter() - started
    assert len(codes) == 1_000_000
    assert len(set(codes)) == 1_000_000
    assert all(len(code) == CODE_LENGTH for code in codes)
    assert set("".join(codes[:10_000])) <= set(ALPHABET)
    assert not reserved & {code.lower() for code in codes}
    print(f"1,000,000 codes in {elapsed:.1f} s")


def test_the_batch_loop_gives_the_same_codes_as_one_by_one():
    permutation = CodePermutation(KEY)
    for start in (0, 12_345, CODE_SPACE - 50):
        assert permutation.codes(start, 50) == [
            permutation.code(n) for n in range(start, start + 50)
        ]
    with pytest.raises(ValueError):
        permutation.codes(CODE_SPACE - 1, 2)


def test_codes_skip_reserved_words():
    permutation = CodePermutation(KEY)
    third = permutation.code(2)
    drawn = list(itertools.islice(codes_from(permutation, 0, {third.lower()}), 3))
    assert [number for number, _ in drawn] == [0, 1, 3]
    assert third not in [code for _, code in drawn]


def test_consecutive_numbers_give_unrelated_codes():
    permutation = CodePermutation(KEY)
    codes = [permutation.code(n) for n in range(1000)]
    assert codes != sorted(codes)
    # In plain base62, 1000 consecutive numbers share their first five characters.
    assert len({code[:2] for code in codes}) > 500


def test_another_key_gives_other_codes():
    first = [CodePermutation(KEY).code(n) for n in range(100)]
    second = [CodePermutation(b"another-key-" + b"x" * 32).code(n) for n in range(100)]
    assert sum(a == b for a, b in zip(first, second, strict=True)) == 0


def test_permutation_is_a_bijection_on_a_small_sample_of_the_top():
    permutation = CodePermutation(KEY)
    top = range(CODE_SPACE - 2000, CODE_SPACE)
    values = {permutation.scramble(n) for n in top}
    assert len(values) == 2000
    assert all(0 <= value < CODE_SPACE for value in values)
    with pytest.raises(ValueError):
        permutation.scramble(CODE_SPACE)


def test_encode_pads_and_refuses_overflow():
    assert encode(0) == "0000000"
    assert encode(61) == "000000z"
    assert encode(CODE_SPACE - 1) == "zzzzzzz"
    with pytest.raises(ValueError):
        encode(CODE_SPACE)


def test_short_keys_are_refused():
    with pytest.raises(ValueError):
        CodePermutation(b"short")
