"""What travels on the wire: JSON text frames `{type, from, text, ts}` (plus `id`).

`type` is `message` (a client's text), `join`/`leave` (someone came or went), or `history`
(an earlier message replayed to a newcomer, oldest first). `ts` is epoch seconds.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_NAME = 32
SERVER_NAME = "server"
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without control or bidi characters, so nobody can repaint another terminal."""
    return _UNPRINTABLE.sub("", text)


def name_from_path(path: str) -> str:
    """The `name` query parameter of the request path, cleaned, or a fresh guest name."""
    values = parse_qs(urlsplit(path).query).get("name", [])
    name = printable(values[0]).strip()[:MAX_NAME] if values else ""
    if not name or name == SERVER_NAME:
        name = f"guest-{secrets.token_hex(2)}"
    return name


def render(event: dict[str, Any]) -> str:
    """One line for the terminal: `[12:04:05] alice: hello`, joins and leaves marked."""
    try:
        when = datetime.fromtimestamp(float(event.get("ts", 0))).strftime("%H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        when = "--:--:--"
    kind = event.get("type")
    sender = printable(str(event.get("from", "?")))
    text = printable(str(event.get("text", "")))
    if kind == "join":
        return f"[{when}] -> {sender} joined"
    if kind == "leave":
        return f"[{when}] <- {sender} left"
    if kind == "history":
        return f"[{when}] {sender}: {text}  (earlier)"
    return f"[{when}] {sender}: {text}"
