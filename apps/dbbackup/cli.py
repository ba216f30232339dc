"""`stackyard dbbackup backup|restore|verify`.

Exit codes (scripts can rely on them):
  0  success
  1  the database reported an error while reading or writing, or a file could not be written
  2  bad usage or input (unknown engine, missing option, a --tables glob matching nothing)
  3  cannot connect: server unreachable, login refused, or the database does not exist
  4  backup rejected: incomplete, tampered with (checksum mismatch), or for another engine
  5  refused to overwrite: non-empty --dest without --force, or an existing target database
 130 interrupted
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from apps.dbbackup.backup import DEFAULT_CHUNK_BYTES, BackupRequest, run_backup
from apps.dbbackup.compression import METHODS
from apps.dbbackup.engine import ENGINES, ConnectionOptions
from apps.dbbackup.errors import BackupFailure, InvalidRequest
from apps.dbbackup.manifest import Manifest, read_manifest, verify_files
from apps.dbbackup.restore import RestoreRequest, run_restore

EXIT_CODES = __doc__.split("Exit codes", 1)[1] if __doc__ else ""

cli = typer.Typer(
    help="Consistent backups of PostgreSQL, MySQL/MariaDB and SQLite databases, and restores.",
    epilog="Exit codes" + EXIT_CODES.replace("\n", "\n\n"),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)
PASSWORD_VARIABLES = {"postgres": "PGPASSWORD", "mysql": "MYSQL_PWD"}


class RichProgress:
    """The ProgressSink of the CLI: one bar per phase, on stderr."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, label: str, total: int | None) -> None:
        """A new bar; an unknown (zero) estimate gives a bar without a total."""
        if self.task is not None:
            finished = self.progress.tasks[-1]
            self.progress.update(self.task, total=finished.completed)
        self.task = self.progress.add_task(label, total=total or None)

    def advance(self, amount: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, amount)


@contextmanager
def reported_failures() -> Iterator[None]:
    """Expected failures become one red line and their exit code, never a traceback."""
    try:
        yield
    except BackupFailure as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        err.print(
            f"[red]error:[/] {exc.strerror or exc}: {exc.filename or ''}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("[red]interrupted[/]")
        raise typer.Exit(130) from None


@contextmanager
def progress_bars() -> Iterator[RichProgress]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    ) as progress:
        yield RichProgress(progress)


def connection_options(
    engine: str,
    db: str,
    host: str,
    port: int | None,
    user: str | None,
    password: str | None,
    prompt_password: bool,
) -> ConnectionOptions:
    """Validate the connection flags; the password comes from the flag, a prompt or the env."""
    if engine not in ENGINES:
        raise InvalidRequest(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine != "sqlite":
        if password is None and prompt_password:
            password = typer.prompt(f"password for {user or 'the user'}", hide_input=True)
        if password is None and engine in PASSWORD_VARIABLES:
            password = os.environ.get(PASSWORD_VARIABLES[engine])
    default_user = {"postgres": "postgres", "mysql": "root"}.get(engine)
    return ConnectionOptions(
        engine=engine,
        database=db,
        host=host,
        port=port,
        user=user or default_user,
        password=password,
    )


ENGINE = typer.Option(..., "--engine", "-e", help="postgres, mysql (also MariaDB) or sqlite.")
HOST = typer.Option("127.0.0.1", "--host", "-h", help="Server host (not used for sqlite).")
PORT = typer.Option(None, "--port", "-p", help="Server port [default: 5432 / 3306].")
USER = typer.Option(None, "--user", "-u", help="User [default: postgres / root].")
PASSWORD = typer.Option(
    None, "--password", help="Password; else PGPASSWORD / MYSQL_PWD from the environment."
)
PROMPT = typer.Option(False, "--prompt-password", "-W", help="Ask for the password.")
JOBS = typer.Option(2, "--jobs", "-j", min=1, max=64, help="Parallel connections.")


@cli.command()
def backup(
    engine: str = ENGINE,
    db: str = typer.Option(..., "--db", "-d", help="Database name; for sqlite the file path."),
    dest: Path = typer.Option(..., "--dest", help="Folder to write the backup into."),
    host: str = HOST,
    port: int | None = PORT,
    user: str | None = USER,
    password: str | None = PASSWORD,
    prompt_password: bool = PROMPT,
    tables: list[str] = typer.Option(
        [],
        "--tables",
        "-t",
        help="Only tables matching this glob (repeatable; name or schema.name).",
    ),
    exclude: list[str] = typer.Option(
        [], "--exclude", "-x", help="Skip tables matching this glob."
    ),
    jobs: int = JOBS,
    compress: str = typer.Option("zstd", "--compress", help="zstd, gzip or none."),
    force: bool = typer.Option(False, "--force", help="Overwrite a non-empty --dest."),
    chunk_mb: float = typer.Option(
        DEFAULT_CHUNK_BYTES / (1 << 20),
        "--chunk-mb",
        min=0.01,
        help="Split tables larger than this (MiB on disk) into several data files.",
    ),
) -> None:
    """Back up a whole database (or the selected tables) from one consistent snapshot."""
    with reported_failures():
        if compress not in METHODS:
            raise InvalidRequest(f"--compress must be one of {', '.join(METHODS)}")
        options = connection_options(engine, db, host, port, user, password, prompt_password)
        request = BackupRequest(
            source=options,
            dest=dest,
            include=_split_globs(tables),
            exclude=_split_globs(exclude),
            jobs=jobs,
            compression=compress,
            force=force,
            chunk_bytes=int(chunk_mb * (1 << 20)),
        )
        began = time.perf_counter()
        with progress_bars() as progress:
            manifest = run_backup(request, progress)
        elapsed = time.perf_counter() - began
    _summary(manifest, f"backed up into {dest} in {elapsed:.1f} s")


@cli.command()
def restore(
    engine: str = ENGINE,
    src: Path = typer.Option(..., "--src", help="Backup folder (holding manifest.json)."),
    db: str = typer.Option(..., "--db", "-d", help="Target database; for sqlite a new file path."),
    host: str = HOST,
    port: int | None = PORT,
    user: str | None = USER,
    password: str | None = PASSWORD,
    prompt_password: bool = PROMPT,
    create_db: bool = typer.Option(
        False, "--create-db", help="Create the target database (it must not exist)."
    ),
    jobs: int = JOBS,
) -> None:
    """Verify a backup, then restore it into another (new or empty) database."""
    with reported_failures():
        options = connection_options(engine, db, host, port, user, password, prompt_password)
        began = time.perf_counter()
        with progress_bars() as progress:
            manifest = run_restore(
                RestoreRequest(target=options, src=src, create=create_db, jobs=jobs), progress
            )
        elapsed = time.perf_counter() - began
    _summary(manifest, f"restored into {db} in {elapsed:.1f} s")


@cli.command()
def verify(
    src: Path = typer.Option(..., "--src", help="Backup folder (holding manifest.json)."),
) -> None:
    """Check a backup's manifest and every file's size and SHA-256; exit 4 if anything is off."""
    with reported_failures():
        manifest = read_manifest(src)
        problems = verify_files(src, manifest)
    if problems:
        for problem in problems:
            err.print(f"[red]bad:[/] {problem}", highlight=False, soft_wrap=True)
        err.print(f"[red]error:[/] backup {src} failed verification ({len(problems)} problems)")
        raise typer.Exit(4)
    total = sum(entry.bytes for entry in manifest.files.values())
    console.print(
        f"ok: {len(manifest.files)} files, {total:,} bytes, {len(manifest.tables)} tables "
        f"({manifest.engine}, snapshot {manifest.snapshot_time})",
        highlight=False,
    )


def _split_globs(values: list[str]) -> list[str]:
    return [g.strip() for value in values for g in value.split(",") if g.strip()]


def _summary(manifest: Manifest, headline: str) -> None:
    table = Table("table", "rows", "files", title=headline)
    for entry in manifest.tables:
        table.add_row(entry.name, f"{entry.rows:,}", str(len(entry.chunks)))
    table.add_row(
        "[bold]total",
        f"[bold]{sum(t.rows for t in manifest.tables):,}",
        str(sum(len(t.chunks) for t in manifest.tables)),
    )
    console.print(table)
