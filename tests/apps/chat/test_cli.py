"""`stackyard chat` against a real server: offline and live messages, keys kept with mode 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.chat.client.api import ChatAccount
from apps.chat.client.store import KeyStore
from tests.support.servers import LiveServer, live_server

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]
PASSWORD = "a long enough passphrase"


@pytest.fixture(scope="module")
def chat_server(stack: Any) -> Iterator[LiveServer]:
    env = {**stack.env, "STACKYARD_EMBEDDED_WORKER": "false"}
    with live_server(stack.data_dir, env=env, migrate=False, args=("--app", "chat")) as server:
        yield server


def account(http: httpx.Client, name: str, keys: Path) -> tuple[str, ChatAccount]:
    email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": name}
    assert http.post("/auth/signup", json=body).status_code == 201
    token = http.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
    me = http.get("/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    chat = ChatAccount(http, token["access_token"], me.json()["id"], KeyStore.open(keys))
    return email, chat


def wait_for(check: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_the_terminal_client_shows_offline_and_live_messages_and_sends(
    chat_server: LiveServer, tmp_path: Path
) -> None:
    with httpx.Client(base_url=chat_server.url, timeout=10) as http:
        _, alice = account(http, "Alice", tmp_path / "alice.json")
        bob_email, bob = account(http, "Bob", tmp_path / "unused.json")
        alice.register()
        alice.add_contact(bob_email)
        bob.accept(alice.user_id)
        direct = alice.direct(bob.user_id)
        alice.send(direct["id"], "sent while you were offline")  # Bob has no device yet
        config = tmp_path / "config"
        env = {**os.environ, "XDG_CONFIG_HOME": str(config), "STACKYARD_PASSWORD": PASSWORD}
        command = [sys.executable, "-m", "apps.cli", "chat", "--server", chat_server.url]
        process = subprocess.Popen(
            [*command, "--email", bob_email],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdin is not None
        try:

            def bob_online() -> bool:
                statuses = alice.call("GET", "/chat/presence")
                return any(
                    s["user_id"] == bob.user_id and s["status"] == "online" for s in statuses
                )

            wait_for(bob_online, "Bob's terminal to connect")
            alice.send(direct["id"], "are you there now?")
            process.stdin.write("/open 1\n")
            process.stdin.flush()
            process.stdin.write("yes, on the terminal\n")
            process.stdin.flush()
            wait_for(
                lambda: "yes, on the terminal" in [r.text for r in alice.history(direct["id"])],
                "Bob's reply",
            )
        finally:
            output, _ = process.communicate(timeout=30)  # closes stdin: the client exits
    assert process.returncode == 0, output
    assert "[Alice (online)] Alice: are you there now?" in output or (
        "#2 Alice: are you there now?" in output
    ), output
    assert "sent while you were offline" not in output  # encrypted before Bob had a key
    key_files = list((config / "stackyard").glob("chat-*.json"))
    assert len(key_files) == 1 and stat.S_IMODE(key_files[0].stat().st_mode) == 0o600
    published = [
        d["public_key"]
        for d in httpx.get(f"{chat_server.url}/chat/keys/", headers=bob.headers).json()
    ]
    assert published == [KeyStore.open(key_files[0]).keys.public_b64]
