"""Chat (brief #16): end-to-end encrypted messages, contacts, groups, presence and typing.

HTTP at /chat registers device public keys, manages contacts (by email, or contact sync with
HMACs of emails), conversations (direct and groups) and stores ciphertext messages with a
sequence number per conversation. `/chat/ws?device=<id>` delivers messages (offline ones on
connect, each exactly once), receipts, contacts' presence and typing. Encryption happens in
`apps.chat.client` only; `stackyard chat` is the terminal client.
"""

from litestar import Router

from apps.chat.live import chat_socket
from apps.chat.routes import ContactController, ConversationController, KeyController, presence

router = Router(
    path="/chat",
    route_handlers=[
        KeyController,
        ContactController,
        ConversationController,
        presence,
        chat_socket,
    ],
    tags=["chat"],
)

__all__ = ["router"]
