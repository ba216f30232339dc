"""Outgoing mail: SMTP when SMTP_URL is set, otherwise an outbox folder in the data dir.

The outbox keeps one JSON file per message so the sign-up and reset flows work on a laptop;
`stackyard mail outbox` lists it.
"""

from __future__ import annotations

import json
import smtplib
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import anyio.to_thread

from apps.kernel.settings import Settings, get_settings


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    sent_at: str
    id: str


def outbox_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "outbox"


def _send_smtp(settings: Settings, mail: Mail) -> None:
    assert settings.smtp_url is not None
    url = urlsplit(settings.smtp_url)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    smtp_cls = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with smtp_cls(
        url.hostname or "localhost", url.port or (465 if url.scheme == "smtps" else 25), timeout=10
    ) as smtp:
        if url.scheme == "smtp" and url.query == "starttls":
            smtp.starttls()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)


def _write_outbox(settings: Settings, mail: Mail) -> None:
    folder = outbox_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{mail.sent_at.replace(':', '')}-{mail.id}.json"
    path.write_text(json.dumps(asdict(mail), indent=2))


def send_mail_sync(to: str, subject: str, body: str, settings: Settings | None = None) -> Mail:
    settings = settings or get_settings()
    mail = Mail(
        to=to,
        subject=subject,
        body=body,
        sent_at=datetime.now(UTC).isoformat(),
        id=uuid.uuid4().hex,
    )
    if settings.smtp_url:
        _send_smtp(settings, mail)
    else:
        _write_outbox(settings, mail)
    return mail


async def send_mail(to: str, subject: str, body: str) -> Mail:
    settings = get_settings()
    return await anyio.to_thread.run_sync(lambda: send_mail_sync(to, subject, body, settings))


def read_outbox(settings: Settings | None = None) -> list[Mail]:
    """Every message in the outbox, oldest first."""
    folder = outbox_dir(settings)
    if not folder.is_dir():
        return []
    return [Mail(**json.loads(path.read_text())) for path in sorted(folder.glob("*.json"))]
