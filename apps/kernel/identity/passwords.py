"""Argon2id password hashing and the signup password policy."""

from __future__ import annotations

from functools import lru_cache

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from apps.kernel.errors import Invalid
from apps.kernel.settings import get_settings

MIN_LENGTH = 10

# Passwords of policy length that top every breach list; a small list on purpose:
# the policy stops the obvious, a breach-corpus check is the next step.
COMMON_PASSWORDS = frozenset(
    [
        "1234567890",
        "12345678910",
        "0123456789",
        "0987654321",
        "1111111111",
        "0000000000",
        "1234512345",
        "1122334455",
        "123123123123",
        "password123",
        "password1234",
        "password12",
        "passw0rd123",
        "password!!",
        "passwordpassword",
        "qwertyuiop",
        "qwertyuiop1",
        "qwerty12345",
        "qwerty123456",
        "1qaz2wsx3edc",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "zaq12wsxcde",
        "asdfghjkl;",
        "asdfghjkl1",
        "zxcvbnm123",
        "iloveyou123",
        "iloveyou12",
        "abcdefghij",
        "abcd123456",
        "abc1234567",
        "letmein123",
        "welcome123",
        "welcome1234",
        "sunshine123",
        "princess123",
        "football123",
        "baseball123",
        "dragon1234",
        "monkey1234",
        "michael123",
        "superman123",
        "batman12345",
        "trustno1234",
        "starwars123",
        "whatever12",
        "changeme123",
        "administrator",
        "admin12345",
        "admin123456",
        "adminadmin",
        "rootroot12",
        "123456789a",
        "a123456789",
        "1234567890a",
        "987654321a",
        "qazwsxedc123",
        "aaaaaaaaaa",
        "1234567890q",
        "12345qwert",
        "qwert12345",
    ]
)


def check_policy(password: str, *, email: str | None = None) -> None:
    """Raise Invalid (naming the `password` field) for a password the policy refuses."""
    if len(password) < MIN_LENGTH:
        raise Invalid("password", f"Password must be at least {MIN_LENGTH} characters long")
    if password.lower() in COMMON_PASSWORDS:
        raise Invalid("password", "Password is too common; choose another")
    if email and password.lower() == email.lower():
        raise Invalid("password", "Password must not be the email address")
    if len(set(password)) < 3:
        raise Invalid("password", "Password must use more than two different characters")


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def hasher() -> PasswordHasher:
    settings = get_settings()
    return _hasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)


def hash_password_sync(password: str) -> str:
    return hasher().hash(password)


async def hash_password(password: str) -> str:
    """Argon2id, off the event loop (hashing is deliberately slow)."""
    return await anyio.to_thread.run_sync(hash_password_sync, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH: dict[tuple[int, int], str] = {}


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) it spends the same time and says no."""
    if password_hash is None:
        settings = get_settings()
        key = (settings.password_hash_time_cost, settings.password_hash_memory_kib)
        if key not in _DUMMY_HASH:
            _DUMMY_HASH[key] = await hash_password("not-a-real-password-0")
        await anyio.to_thread.run_sync(_verify, _DUMMY_HASH[key], password)
        return False
    return await anyio.to_thread.run_sync(_verify, password_hash, password)
