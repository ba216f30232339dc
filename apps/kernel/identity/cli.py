"""`stackyard users` and `stackyard mail`: make the first administrators, read the outbox."""

from __future__ import annotations

import asyncio
import sys

import typer
from rich.console import Console
from rich.table import Table

from apps.kernel import db
from apps.kernel.cache import close_redis, get_redis
from apps.kernel.errors import Conflict, Invalid, NotFound
from apps.kernel.identity.services import IdentityService
from apps.kernel.mail import read_outbox
from apps.kernel.settings import get_settings

users_cli = typer.Typer(help="Create users and grant roles.", no_args_is_help=True)
mail_cli = typer.Typer(help="Outgoing mail.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


async def _with_identity(action):  # type: ignore[no-untyped-def]  # noqa: ANN001
    try:
        async with db.session() as session:
            return await action(IdentityService(session, get_redis(), get_settings()))
    finally:
        await close_redis()
        await db.dispose_engines()


@users_cli.command("create")
def create_user(
    email: str,
    admin: bool = typer.Option(False, "--admin", help="Give the user the admin role."),
    display_name: str | None = typer.Option(
        None, "--display-name", help="Defaults to the email's local part."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from one stdin line."
    ),
) -> None:
    """Create a user. Exit 0 created, 1 already exists, 2 password policy or bad email."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    name = display_name or email.split("@", 1)[0]
    role = "admin" if admin else "user"
    try:
        user = asyncio.run(
            _with_identity(lambda s: s.create_user(email, password, name, role=role, verified=True))
        )
    except Conflict:
        err.print(f"[red]error:[/] a user with email {email} already exists")
        raise typer.Exit(1) from None
    except Invalid as exc:
        err.print(f"[red]error:[/] {exc.field}: {exc.detail}")
        raise typer.Exit(2) from None
    console.print(f"created {user.email} ({user.role}) id={user.id}")


@users_cli.command("promote")
def promote(email: str, role: str = typer.Option("admin", "--role", help="user or admin")) -> None:
    """Give an existing user a role. Exit 1 if no such user, 2 for an unknown role."""
    try:
        user = asyncio.run(_with_identity(lambda s: s.set_role(email, role)))
    except NotFound as exc:
        err.print(f"[red]error:[/] {exc.detail}")
        raise typer.Exit(1) from None
    except Invalid as exc:
        err.print(f"[red]error:[/] {exc.detail}")
        raise typer.Exit(2) from None
    console.print(f"{user.email} is now {user.role}")


@mail_cli.command("outbox")
def outbox(
    last: int = typer.Option(20, "--last", help="Show the newest N messages."),
    full: bool = typer.Option(False, "--full", help="Print whole bodies."),
) -> None:
    """List the mail written to the outbox (used when SMTP_URL is not set)."""
    messages = read_outbox()[-last:]
    if full:
        for mail in messages:
            console.rule(f"{mail.sent_at}  to {mail.to}")
            console.print(f"[bold]{mail.subject}[/]\n{mail.body}")
        return
    table = Table("sent at", "to", "subject")
    for mail in messages:
        table.add_row(mail.sent_at, mail.to, mail.subject)
    console.print(table)
