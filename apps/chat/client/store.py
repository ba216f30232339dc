"""What a device keeps: its private identity key and the keys it has seen for others.

Kept as JSON in the user's config dir (`~/.config/stackyard/chat-<account>.json`), written
with file mode 0600 through a temporary file so a crash never leaves half a key. Contacts'
keys are trusted on first use; a later, different key is reported as a key change until the
user accepts it (after comparing safety numbers).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from apps.chat.client.crypto import DeviceKeys, b64, unb64


def default_path(account: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in account)
    return Path(platformdirs.user_config_dir("stackyard")) / f"chat-{safe}.json"


@dataclass
class KeyChange:
    user_id: str
    device_id: str
    old_key: str
    new_key: str


@dataclass
class KeyStore:
    device_id: str
    keys: DeviceKeys
    known: dict[str, dict[str, str]] = field(default_factory=dict)
    """user id -> device id -> the public key trusted for it."""
    path: Path | None = None

    @classmethod
    def new(cls, path: Path | None = None) -> KeyStore:
        store = cls(device_id=f"dev-{secrets.token_hex(6)}", keys=DeviceKeys.generate(), path=path)
        store.save()
        return store

    @classmethod
    def open(cls, path: Path) -> KeyStore:
        """The store at `path`, created (mode 0600) on first use."""
        if not path.exists():
            return cls.new(path)
        data: dict[str, Any] = json.loads(path.read_text())
        keys = DeviceKeys.from_private_bytes(unb64(data["private_key"]))
        return cls(data["device_id"], keys, dict(data.get("known", {})), path)

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "device_id": self.device_id,
            "private_key": b64(self.keys.private_bytes()),
            "known": self.known,
        }
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)

    def observe(self, user_id: str, device_id: str, public_key: str) -> KeyChange | None:
        """Trust a first-seen key; report (and do not trust) a changed one."""
        devices = self.known.setdefault(user_id, {})
        old = devices.get(device_id)
        if old is None:
            devices[device_id] = public_key
            self.save()
            return None
        if old != public_key:
            return KeyChange(user_id, device_id, old, public_key)
        return None

    def accept(self, change: KeyChange) -> None:
        """The user verified the new key (safety number): trust it from now on."""
        self.known.setdefault(change.user_id, {})[change.device_id] = change.new_key
        self.save()
