"""`stackyard`: serve, migrate, run workers, and every app's own commands."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table

from apps.kernel.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    help="Stackyard: forty backend services on one kernel.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    """Load settings or exit 2 with the message naming the bad variable."""
    try:
        return load_settings()
    except SettingsError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


migrate_cli = typer.Typer(
    help="Database migrations (Alembic, one branch per app).", invoke_without_command=True
)
app.add_typer(migrate_cli, name="migrate")


@migrate_cli.callback()
def migrate(ctx: typer.Context) -> None:
    """Apply every app's migrations (`upgrade heads`); safe to run again."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    from apps.kernel import db

    with console.status("applying migrations"):
        heads = db.upgrade(settings)
    console.print(f"database at {len(heads)} heads: {', '.join(heads)}")


@migrate_cli.command("revision")
def revision(
    app_name: str = typer.Argument(..., help="The app whose tables changed (kernel for identity)."),
    message: str = typer.Option(..., "-m", "--message"),
) -> None:
    """Autogenerate a migration for one app's tables into that app's migrations folder."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from apps.kernel import db

    settings = _settings()
    config = db.alembic_config(settings)
    script = ScriptDirectory.from_config(config)
    label = "identity" if app_name == "kernel" else app_name
    folder = (
        db.MIGRATIONS_DIR / "versions"
        if app_name == "kernel"
        else db.APPS_DIR / app_name / "migrations"
    )
    folder.mkdir(parents=True, exist_ok=True)
    config.attributes["only_tables_prefix"] = f"{label}_"
    has_branch = any(label in (rev.branch_labels or ()) for rev in script.walk_revisions())
    db.upgrade(settings)
    command.revision(
        config,
        message=message,
        autogenerate=True,
        head=f"{label}@head" if has_branch else "base",
        branch_label=None if has_branch else label,
        version_path=str(folder),
    )


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", envvar="STACKYARD_HOST"),
    port: int = typer.Option(8000, "--port", envvar="STACKYARD_PORT"),
    apps: list[str] = typer.Option([], "--app", help="Serve only these apps (repeatable)."),
    workers: int = typer.Option(
        1, "--workers", min=1, help="Server worker processes; >1 needs REDIS_URL."
    ),
    server: str = typer.Option("granian", "--server", help="granian or uvicorn"),
) -> None:
    """Serve the apps (all, or --app ...) with an embedded Celery worker and beat by default."""
    from apps import gateway
    from apps.kernel import db
    from apps.kernel.metrics import prepare_multiprocess_dir

    settings = _settings()
    try:
        gateway.load_routers(apps)
    except gateway.UnknownAppError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if workers > 1 and not settings.redis_url:
        err.print(
            "[red]error:[/] --workers above 1 needs REDIS_URL: per-process fakes would split "
            "rate limits, token deny-lists and broadcasts between workers"
        )
        raise typer.Exit(2)
    if server not in {"granian", "uvicorn"}:
        err.print("[red]error:[/] --server must be granian or uvicorn")
        raise typer.Exit(2)
    try:
        pending = asyncio.run(db.pending_migrations(settings))
    except Exception as exc:
        err.print(
            f"[red]error:[/] database not reachable or not initialised ({type(exc).__name__}); "
            "run `stackyard migrate`"
        )
        raise typer.Exit(1) from None
    if pending:
        err.print(
            f"[red]error:[/] database is not migrated ({len(pending)} pending heads); "
            "run `stackyard migrate`"
        )
        raise typer.Exit(1)

    env = dict(os.environ, STACKYARD_APPS=",".join(apps), STACKYARD_DATA_DIR=str(settings.data_dir))
    if workers > 1:
        prepare_multiprocess_dir(settings.data_dir / "prometheus")
        env["PROMETHEUS_MULTIPROC_DIR"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    children: list[subprocess.Popen[bytes]] = []
    if not settings.celery_broker_url and settings.embedded_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "apps.cli", "worker"], env=env))
        children.append(subprocess.Popen([sys.executable, "-m", "apps.cli", "beat"], env=env))
    children.append(subprocess.Popen(_server_command(server, host, port, workers), env=env))
    _run_until_stopped(children, f"http://{host}:{port}")


def _server_command(server: str, host: str, port: int, workers: int) -> list[str]:
    target = "apps.gateway:create_app_from_env"
    if server == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--factory",
            target,
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        target,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def _run_until_stopped(children: Sequence[subprocess.Popen[bytes]], url: str) -> None:
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    announced = False
    deadline = time.monotonic() + 60
    try:
        while not stopping:
            if any(child.poll() is not None for child in children):
                err.print("[red]error:[/] a server process exited; stopping")
                raise typer.Exit(1)
            if not announced:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        console.print(f"serving on {url}", highlight=False)
                        sys.stdout.flush()
                        announced = True
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        err.print("[red]error:[/] the server did not answer /health within 60 s")
                        raise typer.Exit(1) from None
            time.sleep(0.2)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


@app.command()
def worker(
    concurrency: int = typer.Option(2, "--concurrency", min=1),
    pool: str = typer.Option(
        "", "--pool", help="prefork, threads or solo (default: threads embedded, prefork)"
    ),
    queues: str = typer.Option("", "--queues", "-Q", help="Comma-separated queues to consume."),
) -> None:
    """Run a Celery worker on the configured broker."""
    from apps.kernel.tasks import configure

    settings = _settings()
    celery_app = configure(settings)
    chosen = pool or ("prefork" if settings.celery_broker_url else "threads")
    argv = [
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        f"--pool={chosen}",
        f"--hostname=stackyard-{os.getpid()}@%h",
    ]
    if queues:
        argv.append(f"--queues={queues}")
    celery_app.worker_main(argv)


@app.command()
def beat() -> None:
    """Run Celery beat (the periodic-task scheduler) on the configured broker."""
    from apps.kernel.tasks import configure

    settings = _settings()
    celery_app = configure(settings)
    schedule = settings.data_dir / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    celery_app.start(["beat", "--loglevel=INFO", f"--schedule={schedule}"])


@app.command("apps")
def list_apps() -> None:
    """List the apps and their base paths."""
    from apps import gateway

    table = Table("app", "base path", "what it is")
    table.add_row("identity", "/auth", "Users, login, JWT, sessions, roles")
    for name in gateway.available_apps():
        table.add_row(name, f"/{name}", gateway.app_description(name))
    console.print(table)


def _add_app_clis() -> None:
    from apps.kernel.db import app_packages
    from apps.kernel.identity.cli import mail_cli, users_cli

    app.add_typer(users_cli, name="users")
    app.add_typer(mail_cli, name="mail")
    for name in app_packages():
        if not (Path(__file__).parent / name / "cli.py").exists():
            continue
        module = importlib.import_module(f"apps.{name}.cli")
        sub = getattr(module, "cli", None)
        if not isinstance(sub, typer.Typer):
            continue
        command_name = getattr(module, "COMMAND_NAME", name)
        single = sub.registered_commands
        if len(single) == 1 and not sub.registered_groups and sub.registered_callback is None:
            # A one-command tool (`stackyard jsobf DIR`) is mounted as that command itself,
            # so its arguments follow the app name directly.
            info = single[0]
            if info.callback is None:
                continue
            app.command(name=command_name, help=info.help, context_settings=info.context_settings)(
                info.callback
            )
        else:
            app.add_typer(sub, name=command_name)


_add_app_clis()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
