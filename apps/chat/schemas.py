"""Request and response shapes of the chat API.

Messages travel as an `Envelope`: base64 ciphertext and one wrapped message key per recipient
device. The server checks only the shape and that every wrap names a member's registered
device; it cannot read a word of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from apps.kernel.fields import stored_text

DeviceId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="A name the device chose: 1-64 of A-Za-z0-9_.-",
    ),
]
PublicKey = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9+/]{43}=$", description="The raw 32-byte X25519 public key, base64"
    ),
]
Nonce = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9+/]{16}$", description="12 bytes, base64")]
Wrapped = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z0-9+/]{64}$", description="48 bytes, base64")
]
Ciphertext = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        min_length=24,
        max_length=87_384,
        description="AES-GCM ciphertext and tag, base64 (at most 64 KiB)",
    ),
]
Hmac = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Title = Annotated[str, stored_text(100, min_length=1)]
MAX_GROUP = 50
MAX_WRAPS = 500


class KeyPublish(msgspec.Struct, forbid_unknown_fields=True):
    device_id: DeviceId
    public_key: PublicKey


class DeviceKey(msgspec.Struct):
    user_id: UUID
    device_id: str
    public_key: str
    updated_at: datetime


class ContactRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, stored_text(320, min_length=3)]


class ContactRead(msgspec.Struct):
    user_id: UUID
    email: str
    display_name: str
    status: Literal["pending", "accepted"]
    direction: Literal["outgoing", "incoming"]


class Discovery(msgspec.Struct):
    """The HMAC key clients hash normalised emails with (`HMAC-SHA256(key, email)`, hex)."""

    key: str


class DiscoverRequest(msgspec.Struct, forbid_unknown_fields=True):
    hashes: Annotated[list[Hmac], msgspec.Meta(min_length=1, max_length=1000)]


class DiscoveredUser(msgspec.Struct):
    hash: str
    user_id: UUID
    display_name: str


class ConversationCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["direct", "group"]
    members: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=MAX_GROUP)]
    """Other users (accepted contacts); exactly one for a direct conversation."""
    title: Title | None = None


class MemberRead(msgspec.Struct):
    user_id: UUID
    display_name: str
    read_seq: int
    delivered_seq: int


class ConversationRead(msgspec.Struct):
    id: UUID
    kind: str
    title: str | None
    last_seq: int
    members: list[MemberRead]
    created_at: datetime


class WrappedKey(msgspec.Struct, forbid_unknown_fields=True):
    user_id: UUID
    device_id: DeviceId
    ephemeral: PublicKey
    nonce: Nonce
    wrapped: Wrapped


class Envelope(msgspec.Struct, forbid_unknown_fields=True):
    v: Literal[1]
    nonce: Nonce
    ciphertext: Ciphertext
    keys: Annotated[list[WrappedKey], msgspec.Meta(min_length=1, max_length=MAX_WRAPS)]


class MessageCreate(msgspec.Struct, forbid_unknown_fields=True):
    device_id: DeviceId
    """The sending device (registered with PUT /chat/keys): recipients check its key."""
    envelope: Envelope


class MessageRead(msgspec.Struct):
    conversation_id: UUID
    seq: int
    sender_id: UUID
    sender_device: str
    envelope: Envelope
    sent_at: datetime


class PresenceRead(msgspec.Struct):
    user_id: UUID
    status: Literal["online", "away", "offline"]


class ReadMark(msgspec.Struct, forbid_unknown_fields=True):
    seq: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
