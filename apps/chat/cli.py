"""`stackyard chat`: the end-to-end encrypted terminal chat client.

Signs in with --email/--password (STACKYARD_EMAIL / STACKYARD_PASSWORD) or --token
(STACKYARD_TOKEN), creates this device's X25519 key pair on first use in the user's config
dir (`chat-<host>-<user>.json`, mode 0600; only the public key is sent), publishes it, and
opens the conversation list with live messages, typing and presence. Exit codes: 0 done,
1 the server refused or is unreachable, 2 bad usage.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console

from apps.chat.client.api import ChatAccount, Refused
from apps.chat.client.store import KeyStore, default_path
from apps.chat.client.terminal import BadServerURL, TerminalOptions, run_terminal, socket_url

cli = typer.Typer(help="End-to-end encrypted chat: contacts, groups, presence and typing.")
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/] {message}")
    return typer.Exit(code)


def _sign_in(http: httpx.Client, email: str | None, password: str | None) -> str:
    if not email or not password:
        raise _fail("give --token, or --email and --password", 2)
    response = http.post("/auth/login", json={"email": email, "password": password})
    if response.status_code != 200:
        raise _fail(f"sign-in refused ({response.status_code})")
    return str(response.json()["access_token"])


@cli.command()
def chat(
    server: str = typer.Option(
        "http://127.0.0.1:8000", "--server", envvar="STACKYARD_URL", help="The Stackyard server."
    ),
    token: str = typer.Option(None, "--token", envvar="STACKYARD_TOKEN", help="Access token."),
    email: str = typer.Option(None, "--email", envvar="STACKYARD_EMAIL"),
    password: str = typer.Option(None, "--password", envvar="STACKYARD_PASSWORD", hide_input=True),
    keys: Path = typer.Option(None, "--keys", help="Key file (default: in the config dir)."),
) -> None:
    """Open the chat: /help lists the commands."""
    try:
        socket_url(server, "check")
    except BadServerURL as exc:
        raise _fail(str(exc), 2) from None
    with httpx.Client(base_url=server, timeout=10) as http:
        try:
            token = token or _sign_in(http, email, password)
            me = http.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
            if me.status_code != 200:
                raise _fail(f"the server refused the token ({me.status_code})")
            user_id = str(me.json()["id"])
            path = keys or default_path(f"{urlsplit(server).netloc}-{user_id}")
            account = ChatAccount(http, token, user_id, KeyStore.open(path))
            account.register()
        except (httpx.HTTPError, Refused) as exc:
            raise _fail(str(exc)) from None
        code = asyncio.run(run_terminal(TerminalOptions(server=server), account))
    raise typer.Exit(code)
