"""The chat API at /chat: keys, contacts, contact sync, conversations, messages, presence.

A message is stored (ciphertext) and committed before it is published, so a pushed message
is always one the database holds and a reconnecting device can replay.
"""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import Provide
from litestar.params import Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from apps.chat import live
from apps.chat.schemas import (
    ContactRead,
    ContactRequest,
    ConversationCreate,
    ConversationRead,
    DeviceKey,
    DiscoveredUser,
    DiscoverRequest,
    Discovery,
    KeyPublish,
    MessageCreate,
    MessageRead,
    PresenceRead,
    ReadMark,
)
from apps.chat.services import ChatService, device_key, discovery_key, message_read
from apps.kernel.cache import get_redis
from apps.kernel.errors import TooManyRequests
from apps.kernel.identity import CurrentUser, requires_user
from apps.kernel.ratelimit import RateLimiter
from apps.kernel.realtime import Hub

Req = Request[CurrentUser, Token, Any]
DISCOVER_LIMIT = 30
"""Contact syncs per user per minute (CHAT_DISCOVER_RATE_LIMIT overrides it)."""


def discover_limit() -> int:
    try:
        return max(1, int(os.environ.get("CHAT_DISCOVER_RATE_LIMIT", DISCOVER_LIMIT)))
    except ValueError:
        return DISCOVER_LIMIT


async def provide_chat(db_session: AsyncSession) -> ChatService:
    return ChatService(db_session)


class KeyController(Controller):
    """Device public keys: the only key material the server ever holds."""

    path = "/keys"
    guards = [requires_user]
    dependencies = {"chat": Provide(provide_chat)}

    @put("/", operation_id="PublishChatKey")
    async def publish_key(
        self, request: Req, data: KeyPublish, chat: ChatService, db_session: AsyncSession, hub: Hub
    ) -> DeviceKey:
        """Register this device's X25519 public key, or replace it (its peers are told)."""
        device, changed = await chat.publish_key(request.user, data)
        result = device_key(device)
        if changed:
            peers = await chat.peers(request.user.id)
            await db_session.commit()
            event = {"type": "key_change", **msgspec.to_builtins(result)}
            await live.tell(hub, peers, event)
        return result

    @get("/", operation_id="ListChatKeys")
    async def list_keys(
        self,
        request: Req,
        chat: ChatService,
        user_id: UUID | None = Parameter(default=None, description="Whose keys (default: mine)"),
    ) -> list[DeviceKey]:
        """A user's device keys: mine, my contacts' and those of people I share a chat with."""
        devices = await chat.keys_of(request.user.id, user_id or request.user.id)
        return [device_key(d) for d in devices]


class ContactController(Controller):
    """Contacts: request by email, accept; and contact sync by HMAC of emails."""

    path = "/contacts"
    guards = [requires_user]
    dependencies = {"chat": Provide(provide_chat)}

    @post("/", operation_id="RequestChatContact", status_code=201)
    async def request_contact(
        self, request: Req, data: ContactRequest, chat: ChatService
    ) -> ContactRead:
        """Ask a user (by email) to be my contact; accepts their pending request to me."""
        return await chat.request_contact(request.user, data.email)

    @get("/", operation_id="ListChatContacts")
    async def list_contacts(self, request: Req, chat: ChatService) -> list[ContactRead]:
        """My contacts and pending requests either way."""
        return await chat.contacts(request.user.id)

    @post("/{user_id:uuid}/accept", operation_id="AcceptChatContact", status_code=200)
    async def accept(self, request: Req, user_id: UUID, chat: ChatService) -> ContactRead:
        """Accept the contact request this user sent me."""
        return await chat.accept_contact(request.user, user_id)

    @get("/discovery", operation_id="ChatDiscoveryKey")
    async def discovery(self) -> Discovery:
        """The key to HMAC normalised (trimmed, lower-cased) email addresses with."""
        return Discovery(key=discovery_key())

    @post("/discover", operation_id="DiscoverChatUsers", status_code=200)
    async def discover(
        self, request: Req, data: DiscoverRequest, chat: ChatService
    ) -> list[DiscoveredUser]:
        """Which of these email HMACs are chat users; the uploaded list is not stored.

        Limited to DISCOVER_LIMIT requests a minute per user, so nobody walks the directory.
        """
        limiter = RateLimiter(get_redis(), "chat:discover", limit=discover_limit(), window=60)
        decision = await limiter.hit(request.user.id.hex)
        if not decision.allowed:
            raise TooManyRequests(
                "Too many contact syncs: try again later", retry_after=decision.retry_after
            )
        return await chat.discover(data.hashes)


class ConversationController(Controller):
    """Direct conversations and groups, their ciphertext messages and read receipts."""

    path = "/conversations"
    guards = [requires_user]
    dependencies = {"chat": Provide(provide_chat)}

    @post("/", operation_id="CreateChatConversation", status_code=201)
    async def create(
        self, request: Req, data: ConversationCreate, chat: ChatService
    ) -> ConversationRead:
        """Start a group, or the (single) direct conversation with a contact."""
        conversation, _ = await chat.create_conversation(request.user, data)
        return await chat.conversation_read(conversation)

    @get("/", operation_id="ListChatConversations")
    async def list_conversations(self, request: Req, chat: ChatService) -> list[ConversationRead]:
        """My conversations, most recently active first."""
        return [await chat.conversation_read(c) for c in await chat.conversations(request.user.id)]

    @get("/{conversation_id:uuid}", operation_id="GetChatConversation")
    async def get_conversation(
        self, request: Req, conversation_id: UUID, chat: ChatService
    ) -> ConversationRead:
        """One of my conversations with its members' receipts."""
        return await chat.conversation_read(
            await chat.conversation(request.user.id, conversation_id)
        )

    @get("/{conversation_id:uuid}/keys", operation_id="ListChatConversationKeys")
    async def keys(self, request: Req, conversation_id: UUID, chat: ChatService) -> list[DeviceKey]:
        """Every member device's key: encrypt each message's key for all of them."""
        return [
            device_key(d) for d in await chat.conversation_keys(request.user.id, conversation_id)
        ]

    @post("/{conversation_id:uuid}/messages", operation_id="SendChatMessage", status_code=201)
    async def send(
        self,
        request: Req,
        conversation_id: UUID,
        data: MessageCreate,
        chat: ChatService,
        db_session: AsyncSession,
        hub: Hub,
    ) -> MessageRead:
        """Store an encrypted message under the next sequence number and push it to members."""
        message, members = await chat.post_message(request.user, conversation_id, data)
        result = message_read(message)
        await db_session.commit()
        event = {"type": "message", "message": msgspec.to_builtins(result)}
        await live.tell(hub, members, event)
        return result

    @get("/{conversation_id:uuid}/messages", operation_id="ListChatMessages")
    async def messages(
        self,
        request: Req,
        conversation_id: UUID,
        chat: ChatService,
        after: int = Parameter(default=0, ge=0, le=2**31 - 1, description="Messages after seq"),
        limit: int = Parameter(default=100, ge=1, le=500),
    ) -> list[MessageRead]:
        """Messages in sequence order (ciphertext: decrypt on the device)."""
        rows = await chat.messages(request.user.id, conversation_id, after=after, limit=limit)
        return [message_read(m) for m in rows]

    @post("/{conversation_id:uuid}/read", operation_id="MarkChatRead", status_code=200)
    async def mark_read(
        self,
        request: Req,
        conversation_id: UUID,
        data: ReadMark,
        chat: ChatService,
        db_session: AsyncSession,
        hub: Hub,
    ) -> ConversationRead:
        """I have read up to `seq`: the other members get a read receipt."""
        advanced = await chat.mark_read(request.user.id, conversation_id, data.seq)
        conversation = await chat.conversation(request.user.id, conversation_id)
        result = await chat.conversation_read(conversation)
        await db_session.commit()
        if advanced:
            event = {
                "type": "receipt",
                "kind": "read",
                "conversation_id": str(conversation_id),
                "user_id": str(request.user.id),
                "seq": data.seq,
            }
            await live.tell(hub, [m.user_id for m in result.members], event)
        return result


@get("/presence", operation_id="ChatPresence", guards=[requires_user])
async def presence(request: Req, db_session: AsyncSession, hub: Hub) -> list[PresenceRead]:
    """My accepted contacts' presence: online, away or offline."""
    contacts = await ChatService(db_session).contact_ids(request.user.id)
    return [
        PresenceRead(user_id=c, status=await live.presence_of(hub, c))
        for c in sorted(contacts, key=str)
    ]
