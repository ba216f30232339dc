"""A chat device talking to the server: keys, contacts, conversations, encrypt and decrypt.

Works over any `httpx.Client` (the terminal client's, or Litestar's TestClient). Sending
encrypts on this device for every member device the server lists whose key this device
trusts; receiving decrypts with the sender device's trusted key, and anything that does not
check is shown as undecryptable rather than dropped or guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from apps.chat.client.crypto import (
    DecryptionFailed,
    Device,
    decrypt,
    email_hmac,
    encrypt,
    safety_number,
)
from apps.chat.client.store import KeyChange, KeyStore

UNDECRYPTABLE = "[could not decrypt: altered, or not encrypted for this device]"


class Refused(Exception):
    """The server answered with a problem document."""

    def __init__(self, response: httpx.Response) -> None:
        try:
            body = response.json()
            detail = body.get("detail") or body.get("title") or response.text
        except ValueError:
            detail = response.text
        super().__init__(f"{response.status_code}: {detail}")
        self.status = response.status_code


@dataclass
class Received:
    conversation_id: str
    seq: int
    sender_id: str
    sender_device: str
    text: str | None
    """None when the message could not be decrypted (see `problem`)."""
    problem: str | None = None

    @property
    def shown(self) -> str:
        return self.text if self.text is not None else UNDECRYPTABLE


@dataclass
class ChatAccount:
    """One signed-in user on one device."""

    http: httpx.Client
    token: str
    user_id: str
    store: KeyStore
    key_changes: list[KeyChange] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def me(self) -> Device:
        return Device(self.user_id, self.store.device_id, self.store.keys.public_b64)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, headers=self.headers, **kwargs)
        if response.status_code >= 400:
            raise Refused(response)
        return response.json() if response.content else None

    # ---- keys and contacts ----------------------------------------------------------------

    def register(self) -> dict[str, Any]:
        """Publish this device's public key (the private key never leaves the store)."""
        body = {"device_id": self.store.device_id, "public_key": self.store.keys.public_b64}
        return self.call("PUT", "/chat/keys/", json=body)

    def add_contact(self, email: str) -> dict[str, Any]:
        return self.call("POST", "/chat/contacts/", json={"email": email})

    def accept(self, user_id: str) -> dict[str, Any]:
        return self.call("POST", f"/chat/contacts/{user_id}/accept")

    def contacts(self) -> list[dict[str, Any]]:
        return self.call("GET", "/chat/contacts/")

    def sync_contacts(self, emails: list[str]) -> dict[str, dict[str, Any]]:
        """Which of these addresses are chat users: only their HMACs are uploaded."""
        key = self.call("GET", "/chat/contacts/discovery")["key"]
        by_hash = {email_hmac(key, e): e for e in emails}
        found = self.call("POST", "/chat/contacts/discover", json={"hashes": list(by_hash)})
        return {by_hash[f["hash"]]: f for f in found}

    def trusted(self, devices: list[dict[str, Any]]) -> list[Device]:
        """The listed devices whose keys this device trusts; changed keys are set aside."""
        result = []
        for d in devices:
            change = self.store.observe(d["user_id"], d["device_id"], d["public_key"])
            if change is not None:
                if change not in self.key_changes:
                    self.key_changes.append(change)
                continue
            result.append(Device(d["user_id"], d["device_id"], d["public_key"]))
        return result

    def safety_number(self, user_id: str) -> str:
        mine = [d["public_key"] for d in self.call("GET", "/chat/keys/")]
        theirs = self.call("GET", "/chat/keys/", params={"user_id": user_id})
        return safety_number(self.user_id, mine, user_id, [d["public_key"] for d in theirs])

    # ---- conversations ----------------------------------------------------------------------

    def direct(self, user_id: str) -> dict[str, Any]:
        return self.call(
            "POST", "/chat/conversations/", json={"kind": "direct", "members": [user_id]}
        )

    def group(self, title: str, members: list[str]) -> dict[str, Any]:
        body = {"kind": "group", "title": title, "members": members}
        return self.call("POST", "/chat/conversations/", json=body)

    def conversations(self) -> list[dict[str, Any]]:
        return self.call("GET", "/chat/conversations/")

    def send(self, conversation_id: str, text: str) -> dict[str, Any]:
        """Encrypt `text` once, wrap its key for every trusted member device, and send it."""
        devices = self.call("GET", f"/chat/conversations/{conversation_id}/keys")
        recipients = self.trusted(devices)
        envelope = encrypt(
            text.encode(),
            conversation_id=conversation_id,
            sender=self.me,
            sender_keys=self.store.keys,
            recipients=recipients,
        )
        body = {"device_id": self.store.device_id, "envelope": envelope}
        return self.call("POST", f"/chat/conversations/{conversation_id}/messages", json=body)

    def history(self, conversation_id: str, after: int = 0) -> list[Received]:
        rows = self.call(
            "GET", f"/chat/conversations/{conversation_id}/messages", params={"after": after}
        )
        return [self.open(m) for m in rows]

    def mark_read(self, conversation_id: str, seq: int) -> dict[str, Any]:
        return self.call("POST", f"/chat/conversations/{conversation_id}/read", json={"seq": seq})

    def open(self, message: dict[str, Any]) -> Received:
        """Decrypt a message as the server relayed it; failures become a visible problem."""
        conversation_id = str(message["conversation_id"])
        sender_id, sender_device = str(message["sender_id"]), str(message["sender_device"])
        received = Received(conversation_id, int(message["seq"]), sender_id, sender_device, None)
        sender = self._sender(sender_id, sender_device)
        if sender is None:
            received.problem = "the sender's device key is unknown or changed"
            return received
        try:
            plaintext = decrypt(
                message["envelope"],
                conversation_id=conversation_id,
                sender=sender,
                me=self.me,
                my_keys=self.store.keys,
            )
        except DecryptionFailed as exc:
            received.problem = str(exc)
            return received
        received.text = plaintext.decode(errors="replace")
        return received

    def _sender(self, user_id: str, device_id: str) -> Device | None:
        known = self.store.known.get(user_id, {}).get(device_id)
        if known is None:
            params = {} if user_id == self.user_id else {"user_id": user_id}
            try:
                devices = self.call("GET", "/chat/keys/", params=params)
            except Refused:
                return None
            self.trusted(devices)
            known = self.store.known.get(user_id, {}).get(device_id)
        return Device(user_id, device_id, known) if known else None
