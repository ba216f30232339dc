"""Chat domain logic: contacts, device keys, conversations, ciphertext messages and cursors.

Nothing here sees plaintext: a message is an envelope the server validates by shape and by
whom it is wrapped for. Sequence numbers come from one atomic `UPDATE ... RETURNING` on the
conversation row, so concurrent senders get distinct, gap-free numbers on every database.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import msgspec
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.chat.models import (
    ChatContact,
    ChatConversation,
    ChatCursor,
    ChatDevice,
    ChatDirectory,
    ChatMember,
    ChatMessage,
)
from apps.chat.schemas import (
    ContactRead,
    ConversationCreate,
    ConversationRead,
    DeviceKey,
    DiscoveredUser,
    Envelope,
    KeyPublish,
    MemberRead,
    MessageCreate,
    MessageRead,
)
from apps.kernel.errors import Invalid, NotFound
from apps.kernel.identity import CurrentUser
from apps.kernel.identity.models import User
from apps.kernel.settings import get_settings

BACKLOG_LIMIT = 1000
_encode = msgspec.json.Encoder().encode
_decode_envelope = msgspec.json.Decoder(Envelope).decode


def discovery_key() -> str:
    """The contact-sync HMAC key, derived from the server secret (so it never needs storing)."""
    secret = get_settings().jwt_secret.encode()
    return hmac.new(secret, b"stackyard chat discovery", hashlib.sha256).hexdigest()


def email_hmac(email: str) -> str:
    key = bytes.fromhex(discovery_key())
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def device_key(device: ChatDevice) -> DeviceKey:
    return DeviceKey(
        user_id=device.user_id,
        device_id=device.device_id,
        public_key=device.public_key,
        updated_at=device.updated_at,
    )


def message_read(message: ChatMessage) -> MessageRead:
    return MessageRead(
        conversation_id=message.conversation_id,
        seq=message.seq,
        sender_id=message.sender_id,
        sender_device=message.sender_device,
        envelope=_decode_envelope(message.envelope),
        sent_at=message.created_at,
    )


@dataclass(frozen=True)
class Delivery:
    """A device acknowledged messages up to `seq`; `advanced` when the user's receipt moved."""

    conversation_id: UUID
    seq: int
    advanced: bool


class ChatService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- device keys --------------------------------------------------------------------

    async def publish_key(self, user: CurrentUser, data: KeyPublish) -> tuple[ChatDevice, bool]:
        """Register or replace a device's public key; True when an existing key changed."""
        device = await self.session.scalar(
            select(ChatDevice).where(
                ChatDevice.user_id == user.id, ChatDevice.device_id == data.device_id
            )
        )
        changed = device is not None and device.public_key != data.public_key
        if device is None:
            device = ChatDevice(
                user_id=user.id, device_id=data.device_id, public_key=data.public_key
            )
            self.session.add(device)
        device.public_key = data.public_key
        entry = await self.session.scalar(
            select(ChatDirectory).where(ChatDirectory.user_id == user.id)
        )
        if entry is None:
            self.session.add(ChatDirectory(user_id=user.id, email_hmac=email_hmac(user.email)))
        await self.session.flush()
        await self.session.refresh(device)
        return device, changed

    async def device(self, user_id: UUID, device_id: str) -> ChatDevice | None:
        return await self.session.scalar(
            select(ChatDevice).where(
                ChatDevice.user_id == user_id, ChatDevice.device_id == device_id
            )
        )

    async def keys_of(self, viewer: UUID, user_id: UUID) -> list[ChatDevice]:
        """A user's device keys: for themselves, their contacts and people they talk with."""
        if user_id != viewer and not (
            user_id in await self.contact_ids(viewer)
            or await self._share_conversation(viewer, user_id)
        ):
            raise NotFound("No such user among your contacts", field="user_id")
        rows = await self.session.scalars(
            select(ChatDevice).where(ChatDevice.user_id == user_id).order_by(ChatDevice.device_id)
        )
        return list(rows)

    async def conversation_keys(self, viewer: UUID, conversation_id: UUID) -> list[ChatDevice]:
        members = await self.member_ids(viewer, conversation_id)
        rows = await self.session.scalars(
            select(ChatDevice)
            .where(ChatDevice.user_id.in_(members))
            .order_by(ChatDevice.user_id, ChatDevice.device_id)
        )
        return list(rows)

    async def _share_conversation(self, a: UUID, b: UUID) -> bool:
        mine = select(ChatMember.conversation_id).where(ChatMember.user_id == a)
        found = await self.session.scalar(
            select(ChatMember.id)
            .where(ChatMember.user_id == b, ChatMember.conversation_id.in_(mine))
            .limit(1)
        )
        return found is not None

    # ---- contacts -----------------------------------------------------------------------

    async def request_contact(self, user: CurrentUser, email: str) -> ContactRead:
        """Ask `email` to be a contact; answering their own pending request accepts it."""
        other = await self.session.scalar(select(User).where(User.email == email.strip().lower()))
        if other is None or not other.is_active:
            raise NotFound("No user has this email address", field="email")
        if other.id == user.id:
            raise Invalid("email", "You cannot add yourself as a contact")
        existing = await self._link(user.id, other.id)
        if existing is None:
            existing = ChatContact(requester_id=user.id, addressee_id=other.id)
            self.session.add(existing)
        elif existing.addressee_id == user.id:
            existing.status = "accepted"
        await self.session.flush()
        return self._contact_read(user.id, existing, other)

    async def accept_contact(self, user: CurrentUser, requester_id: UUID) -> ContactRead:
        link = await self._link(user.id, requester_id)
        if link is None or link.addressee_id != user.id:
            raise NotFound("No contact request from this user", field="user_id")
        link.status = "accepted"
        await self.session.flush()
        other = await self.session.get_one(User, requester_id)
        return self._contact_read(user.id, link, other)

    async def contacts(self, user_id: UUID) -> list[ContactRead]:
        rows = await self.session.execute(
            select(ChatContact, User)
            .join(
                User,
                User.id
                == case(
                    (ChatContact.requester_id == user_id, ChatContact.addressee_id),
                    else_=ChatContact.requester_id,
                ),
            )
            .where(or_(ChatContact.requester_id == user_id, ChatContact.addressee_id == user_id))
            .order_by(User.display_name, User.email)
        )
        return [self._contact_read(user_id, link, other) for link, other in rows.tuples()]

    async def contact_ids(self, user_id: UUID) -> set[UUID]:
        """Accepted contacts: the only people who see this user's presence."""
        rows = await self.session.execute(
            select(ChatContact.requester_id, ChatContact.addressee_id).where(
                ChatContact.status == "accepted",
                or_(ChatContact.requester_id == user_id, ChatContact.addressee_id == user_id),
            )
        )
        return {a if b == user_id else b for a, b in rows.tuples()}

    async def peers(self, user_id: UUID) -> set[UUID]:
        """Contacts and everyone sharing a conversation: who must hear of a key change."""
        mine = select(ChatMember.conversation_id).where(ChatMember.user_id == user_id)
        members = await self.session.scalars(
            select(ChatMember.user_id).where(
                ChatMember.conversation_id.in_(mine), ChatMember.user_id != user_id
            )
        )
        return set(members) | await self.contact_ids(user_id)

    async def _link(self, a: UUID, b: UUID) -> ChatContact | None:
        return await self.session.scalar(
            select(ChatContact).where(
                or_(
                    and_(ChatContact.requester_id == a, ChatContact.addressee_id == b),
                    and_(ChatContact.requester_id == b, ChatContact.addressee_id == a),
                )
            )
        )

    @staticmethod
    def _contact_read(me: UUID, link: ChatContact, other: User) -> ContactRead:
        return ContactRead(
            user_id=other.id,
            email=other.email,
            display_name=other.display_name,
            status=link.status,  # type: ignore[arg-type]
            direction="outgoing" if link.requester_id == me else "incoming",
        )

    async def discover(self, hashes: Sequence[str]) -> list[DiscoveredUser]:
        """Which of these email HMACs belong to chat users; the list itself is not kept."""
        rows = await self.session.execute(
            select(ChatDirectory.email_hmac, User.id, User.display_name)
            .join(User, User.id == ChatDirectory.user_id)
            .where(ChatDirectory.email_hmac.in_(set(hashes)), User.is_active.is_(True))
        )
        return [DiscoveredUser(hash=h, user_id=i, display_name=n) for h, i, n in rows.tuples()]

    # ---- conversations ------------------------------------------------------------------

    async def create_conversation(
        self, user: CurrentUser, data: ConversationCreate
    ) -> tuple[ChatConversation, bool]:
        """A new group, or the direct conversation with one contact (existing one reused)."""
        others = list(dict.fromkeys(m for m in data.members if m != user.id))
        if not others:
            raise Invalid("members", "Name at least one other user")
        contacts = await self.contact_ids(user.id)
        strangers = [m for m in others if m not in contacts]
        if strangers:
            raise Invalid("members", f"Not an accepted contact of yours: {strangers[0]}")
        direct_key = None
        if data.kind == "direct":
            if len(others) != 1:
                raise Invalid("members", "A direct conversation has exactly one other member")
            direct_key = ":".join(sorted([user.id.hex, others[0].hex]))
            existing = await self.session.scalar(
                select(ChatConversation).where(ChatConversation.direct_key == direct_key)
            )
            if existing is not None:
                return existing, False
        conversation = ChatConversation(
            kind=data.kind,
            title=data.title if data.kind == "group" else None,
            direct_key=direct_key,
            created_by=user.id,
            last_seq=0,
        )
        self.session.add(conversation)
        await self.session.flush()
        for member in [user.id, *others]:
            self.session.add(ChatMember(conversation_id=conversation.id, user_id=member))
        await self.session.flush()
        return conversation, True

    async def conversation(self, user_id: UUID, conversation_id: UUID) -> ChatConversation:
        await self.member_ids(user_id, conversation_id)
        return await self.session.get_one(ChatConversation, conversation_id)

    async def conversations(self, user_id: UUID) -> list[ChatConversation]:
        rows = await self.session.scalars(
            select(ChatConversation)
            .join(ChatMember, ChatMember.conversation_id == ChatConversation.id)
            .where(ChatMember.user_id == user_id)
            .order_by(ChatConversation.updated_at.desc())
        )
        return list(rows)

    async def conversation_read(self, conversation: ChatConversation) -> ConversationRead:
        rows = await self.session.execute(
            select(ChatMember, User.display_name)
            .join(User, User.id == ChatMember.user_id)
            .where(ChatMember.conversation_id == conversation.id)
            .order_by(User.display_name)
        )
        members = [
            MemberRead(
                user_id=m.user_id,
                display_name=name,
                read_seq=m.read_seq,
                delivered_seq=m.delivered_seq,
            )
            for m, name in rows.tuples()
        ]
        return ConversationRead(
            id=conversation.id,
            kind=conversation.kind,
            title=conversation.title,
            last_seq=conversation.last_seq,
            members=members,
            created_at=conversation.created_at,
        )

    async def member_ids(self, user_id: UUID, conversation_id: UUID) -> list[UUID]:
        """The members of a conversation `user_id` belongs to; anyone else gets a 404."""
        members = list(
            await self.session.scalars(
                select(ChatMember.user_id).where(ChatMember.conversation_id == conversation_id)
            )
        )
        if user_id not in members:
            raise NotFound("No such conversation", field="conversation_id")
        return members

    # ---- messages -----------------------------------------------------------------------

    async def post_message(
        self, user: CurrentUser, conversation_id: UUID, data: MessageCreate
    ) -> tuple[ChatMessage, list[UUID]]:
        """Store a message's ciphertext under the next sequence number; returns the members."""
        members = await self.member_ids(user.id, conversation_id)
        if await self.device(user.id, data.device_id) is None:
            raise Invalid("device_id", "Register this device's key with PUT /chat/keys first")
        devices = set(
            (
                await self.session.execute(
                    select(ChatDevice.user_id, ChatDevice.device_id).where(
                        ChatDevice.user_id.in_(members)
                    )
                )
            ).tuples()
        )
        for index, wrap in enumerate(data.envelope.keys):
            if (wrap.user_id, wrap.device_id) not in devices:
                raise Invalid(
                    f"envelope.keys.{index}.device_id",
                    "Not a registered device of a member of this conversation",
                )
        seq = await self.session.scalar(
            update(ChatConversation)
            .where(ChatConversation.id == conversation_id)
            .values(last_seq=ChatConversation.last_seq + 1, updated_at=datetime.now(UTC))
            .returning(ChatConversation.last_seq)
        )
        assert seq is not None
        message = ChatMessage(
            conversation_id=conversation_id,
            seq=seq,
            sender_id=user.id,
            sender_device=data.device_id,
            envelope=_encode(data.envelope).decode(),
        )
        self.session.add(message)
        await self.session.flush()
        await self.session.refresh(message)
        return message, members

    async def messages(
        self, user_id: UUID, conversation_id: UUID, *, after: int, limit: int
    ) -> list[ChatMessage]:
        await self.member_ids(user_id, conversation_id)
        rows = await self.session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id, ChatMessage.seq > after)
            .order_by(ChatMessage.seq)
            .limit(limit)
        )
        return list(rows)

    async def last_seqs(self, user_id: UUID) -> dict[UUID, int]:
        """The latest sequence number of each of the user's conversations."""
        rows = await self.session.execute(
            select(ChatConversation.id, ChatConversation.last_seq)
            .join(ChatMember, ChatMember.conversation_id == ChatConversation.id)
            .where(ChatMember.user_id == user_id)
        )
        return dict(rows.tuples().all())

    async def undelivered(self, device: ChatDevice) -> list[ChatMessage]:
        """Messages for this device's user it has not acknowledged, oldest first per conversation.

        A device only gets messages sent since it was registered: older ones were never
        wrapped for its key.
        """
        cursor = (
            select(ChatCursor.delivered_seq)
            .where(
                ChatCursor.device_pk == device.id,
                ChatCursor.conversation_id == ChatMessage.conversation_id,
            )
            .scalar_subquery()
        )
        mine = select(ChatMember.conversation_id).where(ChatMember.user_id == device.user_id)
        rows = await self.session.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.conversation_id.in_(mine),
                ChatMessage.seq > func.coalesce(cursor, 0),
                ChatMessage.created_at >= device.created_at,
            )
            .order_by(ChatMessage.conversation_id, ChatMessage.seq)
            .limit(BACKLOG_LIMIT)
        )
        return list(rows)

    async def acknowledge(self, device: ChatDevice, conversation_id: UUID, seq: int) -> Delivery:
        """A device received everything up to `seq`: never replay it; raise the user's receipt."""
        conversation = await self.conversation(device.user_id, conversation_id)
        if not 0 < seq <= conversation.last_seq:
            raise Invalid("seq", f"Must be between 1 and {conversation.last_seq}")
        cursor = await self.session.scalar(
            select(ChatCursor).where(
                ChatCursor.device_pk == device.id, ChatCursor.conversation_id == conversation_id
            )
        )
        if cursor is None:
            self.session.add(
                ChatCursor(device_pk=device.id, conversation_id=conversation_id, delivered_seq=seq)
            )
        else:
            cursor.delivered_seq = max(cursor.delivered_seq, seq)
        moved = await self.session.execute(
            update(ChatMember)
            .where(
                ChatMember.conversation_id == conversation_id,
                ChatMember.user_id == device.user_id,
                ChatMember.delivered_seq < seq,
            )
            .values(delivered_seq=seq)
        )
        await self.session.flush()
        return Delivery(conversation_id, seq, bool(moved.rowcount))  # type: ignore[attr-defined]

    async def mark_read(self, user_id: UUID, conversation_id: UUID, seq: int) -> bool:
        """The user read up to `seq`; True when that moved their read receipt forward."""
        conversation = await self.conversation(user_id, conversation_id)
        if not 0 < seq <= conversation.last_seq:
            raise Invalid("seq", f"Must be between 1 and {conversation.last_seq}")
        moved = await self.session.execute(
            update(ChatMember)
            .where(
                ChatMember.conversation_id == conversation_id,
                ChatMember.user_id == user_id,
                ChatMember.read_seq < seq,
            )
            .values(
                read_seq=seq,
                delivered_seq=case(
                    (ChatMember.delivered_seq < seq, seq), else_=ChatMember.delivered_seq
                ),
            )
        )
        await self.session.flush()
        return bool(moved.rowcount)  # type: ignore[attr-defined]
