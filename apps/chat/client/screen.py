"""What the terminal client shows and does, apart from the terminal itself.

`ChatScreen` is fed the socket's events and the lines the user types; it answers with lines
to print, frames to send on the socket (`outbox`) and a status bar (current conversation,
who is typing, contacts' presence). Every message is decrypted here, on the device; one that
does not decrypt is printed as such, and a contact's changed key is printed with the new
safety number until the user accepts it with `/trust NAME`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from apps.chat.client.api import ChatAccount, Refused

TYPING_SHOWN = 6.0
TYPING_EVERY = 3.0
AWAY_AFTER = 300.0
"""Seconds without a keystroke before the client tells contacts it is away."""
HELP = (
    "commands: /list  /open N  /add EMAIL  /accept EMAIL  /contacts  /direct EMAIL  "
    "/group TITLE EMAIL,EMAIL  /safety EMAIL  /trust EMAIL  /away  /back  /help; "
    "anything else is sent to the open conversation"
)


class NotAContact(Exception):
    """The user named someone by an email that is not among their contacts."""


class ChatScreen:
    def __init__(self, account: ChatAccount, show: Callable[[str], None]) -> None:
        self.account = account
        self.show = show
        self.conversations: list[dict[str, Any]] = []
        self.contacts: list[dict[str, Any]] = []
        self.names: dict[str, str] = {}
        self.presence: dict[str, str] = {}
        self.typing: dict[tuple[str, str], float] = {}
        self.current: str | None = None
        self.outbox: list[dict[str, Any]] = []
        self.unread: dict[str, int] = {}
        self._last_typing = 0.0
        self._warned: set[tuple[str, str, str]] = set()
        self.status = "online"
        self.auto_away = False
        self.last_activity = time.monotonic()

    # ---- state from the server ----

    def refresh(self) -> None:
        self.contacts = self.account.contacts()
        self.conversations = self.account.conversations()
        for contact in self.contacts:
            self.names[contact["user_id"]] = contact["display_name"]
        for conversation in self.conversations:
            for member in conversation["members"]:
                self.names.setdefault(member["user_id"], member["display_name"])
        for entry in self.account.call("GET", "/chat/presence"):
            self.presence[entry["user_id"]] = entry["status"]

    def title(self, conversation: dict[str, Any]) -> str:
        if conversation["kind"] == "group":
            return f"#{conversation['title']}"
        others = [m for m in conversation["members"] if m["user_id"] != self.account.user_id]
        if not others:
            return "(just you)"
        other = others[0]["user_id"]
        return f"{self.names.get(other, other[:8])} ({self.presence.get(other, 'offline')})"

    def conversation_lines(self) -> list[str]:
        if not self.conversations:
            return ["no conversations yet: /direct EMAIL or /group TITLE EMAIL,EMAIL"]
        lines = []
        for n, conversation in enumerate(self.conversations, start=1):
            unread = self.unread.get(conversation["id"], 0)
            mark = "*" if conversation["id"] == self.current else " "
            extra = f"  {unread} new" if unread else ""
            lines.append(f"{mark}[{n}] {self.title(conversation)}{extra}")
        return lines

    def status_bar(self) -> str:
        now = time.monotonic()
        self.typing = {k: v for k, v in self.typing.items() if v > now}
        parts = []
        if self.current is not None:
            conversation = self._conversation(self.current)
            parts.append(self.title(conversation) if conversation else "?")
            typists = [self.names.get(u, u[:8]) for (c, u) in self.typing if c == self.current]
            if typists:
                parts.append(", ".join(sorted(typists)) + " typing...")
        else:
            parts.append("no conversation open (/list, /open N)")
        online = [self.names.get(u, u[:8]) for u, s in self.presence.items() if s != "offline"]
        if online:
            parts.append("online: " + ", ".join(sorted(online)))
        return " | ".join(parts)

    # ---- socket events ----

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message":
            self._message(event["message"])
        elif kind == "receipt" and event.get("conversation_id") == self.current:
            if event["user_id"] != self.account.user_id:
                who = self.names.get(event["user_id"], "someone")
                self.show(f"  ({event['kind']} by {who} up to #{event['seq']})")
        elif kind == "typing":
            key = (event["conversation_id"], event["user_id"])
            if event["state"] == "start":
                self.typing[key] = time.monotonic() + TYPING_SHOWN
            else:
                self.typing.pop(key, None)
        elif kind == "presence":
            before = self.presence.get(event["user_id"])
            self.presence[event["user_id"]] = event["status"]
            if before != event["status"]:
                name = self.names.get(event["user_id"], event["user_id"][:8])
                self.show(f"* {name} is {event['status']}")
        elif kind == "key_change":
            self.account.trusted([event])
            self._warn_key_changes()
        elif kind == "error":
            self.show(f"! {event.get('detail')}")

    def _message(self, message: dict[str, Any]) -> None:
        received = self.account.open(message)
        conversation_id = received.conversation_id
        self.outbox.append(
            {"type": "delivered", "conversation_id": conversation_id, "seq": received.seq}
        )
        if self._conversation(conversation_id) is None:
            self.refresh()
        self.typing.pop((conversation_id, received.sender_id), None)
        sender = "you" if received.sender_id == self.account.user_id else None
        sender = sender or self.names.get(received.sender_id, received.sender_id[:8])
        if conversation_id == self.current:
            self.show(f"#{received.seq} {sender}: {received.shown}")
            self.outbox.append(
                {"type": "read", "conversation_id": conversation_id, "seq": received.seq}
            )
        else:
            self.unread[conversation_id] = self.unread.get(conversation_id, 0) + 1
            conversation = self._conversation(conversation_id)
            where = self.title(conversation) if conversation else "?"
            self.show(f"[{where}] {sender}: {received.shown}")
        self._warn_key_changes()

    def _warn_key_changes(self) -> None:
        for change in self.account.key_changes:
            key = (change.user_id, change.device_id, change.new_key)
            if key in self._warned:
                continue
            self._warned.add(key)
            name = self.names.get(change.user_id, change.user_id[:8])
            self.show(
                f"! {name}'s key changed (device {change.device_id}). New safety number: "
                f"{self.account.safety_number(change.user_id)}. Compare it with {name}, "
                "then /trust to accept; until then they get no messages from you."
            )

    # ---- typed lines ----

    def on_keystroke(self) -> bool:
        """The user typed a key (no I/O here); True when frames wait in `outbox`.

        In an open conversation its members are told, at most every TYPING_EVERY seconds;
        an automatic `away` ends.
        """
        now = time.monotonic()
        self._active(now)
        if self.current is not None and now - self._last_typing > TYPING_EVERY:
            self._last_typing = now
            frame = {"type": "typing", "conversation_id": self.current, "state": "start"}
            self.outbox.append(frame)
        return bool(self.outbox)

    def tick(self) -> None:
        """Called every few seconds: idle for AWAY_AFTER seconds turns the user away."""
        if self.status == "online" and time.monotonic() - self.last_activity > AWAY_AFTER:
            self.status, self.auto_away = "away", True
            self.outbox.append({"type": "presence", "status": "away"})

    def _active(self, now: float) -> None:
        self.last_activity = now
        if self.auto_away:
            self.status, self.auto_away = "online", False
            self.outbox.append({"type": "presence", "status": "online"})

    def on_line(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        self._active(time.monotonic())
        try:
            if line.startswith("/"):
                self._command(*line[1:].split(maxsplit=1))
            elif self.current is None:
                self.show("open a conversation first (/list, /open N)")
            else:
                self.account.send(self.current, line)
                self._last_typing = 0.0
                self._warn_key_changes()
        except (Refused, NotAContact) as exc:
            self.show(f"! {exc}")

    def _command(self, name: str, argument: str = "") -> None:
        if name == "list":
            self.refresh()
            for line in self.conversation_lines():
                self.show(line)
        elif name == "open":
            self._open(argument)
        elif name == "add":
            contact = self.account.add_contact(argument)
            self.show(f"* contact {contact['display_name']}: {contact['status']}")
        elif name == "accept":
            contact = self.account.accept(self._user_id(argument))
            self.show(f"* contact {contact['display_name']}: {contact['status']}")
        elif name == "contacts":
            self.refresh()
            for c in self.contacts:
                status = self.presence.get(c["user_id"], "offline")
                self.show(f"  {c['display_name']} <{c['email']}> {c['status']} {status}")
        elif name == "direct":
            self._enter(self.account.direct(self._user_id(argument)))
        elif name == "group":
            title, _, emails = argument.partition(" ")
            members = [self._user_id(e) for e in emails.split(",") if e.strip()]
            self._enter(self.account.group(title, members))
        elif name == "safety":
            user_id = self._user_id(argument)
            self.show(f"safety number with {argument}: {self.account.safety_number(user_id)}")
        elif name == "trust":
            user_id = self._user_id(argument)
            for change in [c for c in self.account.key_changes if c.user_id == user_id]:
                self.account.store.accept(change)
                self.account.key_changes.remove(change)
            self.show(f"* trusting {argument}'s current keys")
        elif name in ("away", "back"):
            self.status, self.auto_away = ("away" if name == "away" else "online"), False
            self.outbox.append({"type": "presence", "status": self.status})
        else:
            self.show(HELP)

    def _open(self, argument: str) -> None:
        self.refresh()
        try:
            conversation = self.conversations[int(argument) - 1]
        except (ValueError, IndexError):
            self.show(f"no conversation {argument!r}: /list shows them")
            return
        self._enter(conversation)

    def _enter(self, conversation: dict[str, Any]) -> None:
        self.refresh()
        self.current = conversation["id"]
        self.unread.pop(self.current, None)
        self.show(f"--- {self.title(conversation)} ---")
        last = 0
        for received in self.account.history(
            self.current, after=max(0, conversation["last_seq"] - 20)
        ):
            sender = self.names.get(received.sender_id, received.sender_id[:8])
            if received.sender_id == self.account.user_id:
                sender = "you"
            self.show(f"#{received.seq} {sender}: {received.shown}")
            last = received.seq
        if last:
            self.outbox.append({"type": "read", "conversation_id": self.current, "seq": last})

    def _user_id(self, email: str) -> str:
        email = email.strip().lower()
        for contact in self.contacts or self.account.contacts():
            if contact["email"] == email or contact["user_id"] == email:
                return str(contact["user_id"])
        self.contacts = self.account.contacts()
        for contact in self.contacts:
            if contact["email"] == email:
                return str(contact["user_id"])
        raise NotAContact(f"{email} is not among your contacts (/add {email})")

    def _conversation(self, conversation_id: str) -> dict[str, Any] | None:
        return next((c for c in self.conversations if c["id"] == conversation_id), None)
