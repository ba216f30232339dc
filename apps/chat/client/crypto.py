"""End-to-end encryption of chat messages: X25519 device keys, HKDF, AES-GCM.

Each message gets a fresh random 256-bit message key; the body is encrypted once with it
(AES-GCM) and the key is wrapped for every recipient device: an ephemeral X25519 key pair
agrees one secret with the recipient's identity key and the sender device's identity key
agrees another (so only the claimed sender device could have wrapped it), HKDF-SHA256 turns
both into a key-encryption key, and AES-GCM wraps the message key. The conversation, sender
and recipient are bound as associated data: a moved, replayed-elsewhere or altered byte fails
to decrypt. A group message is therefore one ciphertext plus one small wrap per device.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

VERSION = 1
_WRAP_INFO = b"stackyard-chat/1 wrap"


class DecryptionFailed(Exception):
    """The envelope was altered, is not for this device, or was not sent by the claimed device."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


class DeviceKeys:
    """A device's X25519 identity key pair; only `public_b64` ever leaves the device."""

    def __init__(self, private: X25519PrivateKey) -> None:
        self._private = private
        self.public_bytes = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def generate(cls) -> DeviceKeys:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> DeviceKeys:
        return cls(X25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    @property
    def public_b64(self) -> str:
        return b64(self.public_bytes)

    def exchange(self, public: bytes) -> bytes:
        return self._private.exchange(X25519PublicKey.from_public_bytes(public))


@dataclass(frozen=True)
class Device:
    """A recipient (or sender) device as `/chat/keys` lists it."""

    user_id: str
    device_id: str
    public_key: str  # base64 of the raw 32-byte X25519 public key


def _aad(conversation_id: str, sender: Device) -> bytes:
    return f"stackyard-chat/1|{conversation_id}|{sender.user_id}|{sender.device_id}".encode()


def _kek(
    ephemeral_secret: bytes, static_secret: bytes, ephemeral_public: bytes, aad: bytes, to: Device
) -> bytes:
    info = b"|".join(
        [_WRAP_INFO, aad, to.user_id.encode(), to.device_id.encode(), unb64(to.public_key)]
    )
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public, info=info)
    return hkdf.derive(ephemeral_secret + static_secret)


def encrypt(
    plaintext: bytes,
    *,
    conversation_id: str,
    sender: Device,
    sender_keys: DeviceKeys,
    recipients: list[Device],
) -> dict[str, Any]:
    """The envelope of `plaintext` for every device in `recipients` (include your own)."""
    message_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    aad = _aad(conversation_id, sender)
    ciphertext = AESGCM(message_key).encrypt(nonce, plaintext, aad)
    keys = []
    for device in recipients:
        ephemeral = DeviceKeys.generate()
        public = unb64(device.public_key)
        kek = _kek(
            ephemeral.exchange(public),
            sender_keys.exchange(public),
            ephemeral.public_bytes,
            aad,
            device,
        )
        wrap_nonce = os.urandom(12)
        keys.append(
            {
                "user_id": device.user_id,
                "device_id": device.device_id,
                "ephemeral": ephemeral.public_b64,
                "nonce": b64(wrap_nonce),
                "wrapped": b64(AESGCM(kek).encrypt(wrap_nonce, message_key, aad)),
            }
        )
    return {"v": VERSION, "nonce": b64(nonce), "ciphertext": b64(ciphertext), "keys": keys}


def decrypt(
    envelope: dict[str, Any],
    *,
    conversation_id: str,
    sender: Device,
    me: Device,
    my_keys: DeviceKeys,
) -> bytes:
    """The plaintext, or DecryptionFailed when anything about the envelope does not check."""
    entry = next(
        (
            k
            for k in envelope.get("keys", [])
            if k.get("user_id") == me.user_id and k.get("device_id") == me.device_id
        ),
        None,
    )
    if entry is None:
        raise DecryptionFailed("the message was not encrypted for this device")
    aad = _aad(conversation_id, sender)
    try:
        ephemeral = unb64(entry["ephemeral"])
        kek = _kek(
            my_keys.exchange(ephemeral),
            my_keys.exchange(unb64(sender.public_key)),
            ephemeral,
            aad,
            me,
        )
        message_key = AESGCM(kek).decrypt(unb64(entry["nonce"]), unb64(entry["wrapped"]), aad)
        return AESGCM(message_key).decrypt(
            unb64(envelope["nonce"]), unb64(envelope["ciphertext"]), aad
        )
    except (InvalidTag, ValueError, KeyError, TypeError) as exc:
        raise DecryptionFailed("the message was altered or not sent by this device") from exc


def fingerprint(public_key: str) -> str:
    """A short, readable digest of one public key: 8 groups of 4 hex digits."""
    digest = hashlib.sha256(unb64(public_key)).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def _identity_digits(user_id: str, public_keys: list[str]) -> str:
    data = user_id.encode() + b"".join(sorted(unb64(k) for k in public_keys))
    for _ in range(1024):
        data = hashlib.sha512(data).digest()
    number = int.from_bytes(data[:20], "big")
    return f"{number % 10**30:030d}"


def safety_number(a_user: str, a_keys: list[str], b_user: str, b_keys: list[str]) -> str:
    """Sixty digits both people see alike when neither's keys were swapped (compare aloud)."""
    halves = sorted([_identity_digits(a_user, a_keys), _identity_digits(b_user, b_keys)])
    digits = "".join(halves)
    return " ".join(digits[i : i + 5] for i in range(0, 60, 5))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_hmac(discovery_key: str, email: str) -> str:
    """The identifier contact sync uploads instead of an address."""
    key = bytes.fromhex(discovery_key)
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()
