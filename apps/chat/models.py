"""Chat tables: contacts, device public keys, conversations, members and ciphertext messages.

No table holds a message's plaintext: `ChatMessage.envelope` is the client's encrypted
envelope (JSON of base64 fields) exactly as it was sent.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from apps.kernel.db import Base


class ChatContact(Base):
    """A contact request from `requester_id` to `addressee_id`; contacts once accepted."""

    __tablename__ = "chat_contact"
    __table_args__ = (
        UniqueConstraint("requester_id", "addressee_id", name="uq_chat_contact_pair"),
        Index("ix_chat_contact_addressee", "addressee_id"),
    )

    requester_id: Mapped[UUID]
    addressee_id: Mapped[UUID]
    status: Mapped[str] = mapped_column(String(16), default="pending")


class ChatDevice(Base):
    """One client device of a user and its X25519 identity public key (32 bytes, base64)."""

    __tablename__ = "chat_device"
    __table_args__ = (UniqueConstraint("user_id", "device_id", name="uq_chat_device_user_device"),)

    user_id: Mapped[UUID] = mapped_column(index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(64))


class ChatDirectory(Base):
    """HMAC of a chat user's normalised email, so contact sync never sees a raw address list."""

    __tablename__ = "chat_directory"

    user_id: Mapped[UUID] = mapped_column(unique=True)
    email_hmac: Mapped[str] = mapped_column(String(64), index=True)


class ChatConversation(Base):
    """A direct conversation (two users, `direct_key` keeps it unique) or a group."""

    __tablename__ = "chat_conversation"

    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str | None] = mapped_column(String(100), default=None)
    direct_key: Mapped[str | None] = mapped_column(String(80), unique=True, default=None)
    created_by: Mapped[UUID]
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class ChatMember(Base):
    """A user in a conversation, with how far they have read."""

    __tablename__ = "chat_member"
    __table_args__ = (
        UniqueConstraint("conversation_id", "user_id", name="uq_chat_member_conversation_user"),
    )

    conversation_id: Mapped[UUID] = mapped_column(
        ForeignKey("chat_conversation.id", ondelete="CASCADE")
    )
    user_id: Mapped[UUID] = mapped_column(index=True)
    read_seq: Mapped[int] = mapped_column(Integer, default=0)
    delivered_seq: Mapped[int] = mapped_column(Integer, default=0)


class ChatCursor(Base):
    """How far one device has acknowledged delivery in one conversation (exactly-once replay)."""

    __tablename__ = "chat_cursor"
    __table_args__ = (
        UniqueConstraint("device_pk", "conversation_id", name="uq_chat_cursor_device_conversation"),
    )

    device_pk: Mapped[UUID] = mapped_column(ForeignKey("chat_device.id", ondelete="CASCADE"))
    conversation_id: Mapped[UUID] = mapped_column(
        ForeignKey("chat_conversation.id", ondelete="CASCADE")
    )
    delivered_seq: Mapped[int] = mapped_column(Integer, default=0)


class ChatMessage(Base):
    """One message: a server sequence number per conversation and the sender's ciphertext."""

    __tablename__ = "chat_message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_chat_message_conversation_seq"),
    )

    conversation_id: Mapped[UUID] = mapped_column(
        ForeignKey("chat_conversation.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    sender_id: Mapped[UUID]
    sender_device: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[str] = mapped_column(Text)
