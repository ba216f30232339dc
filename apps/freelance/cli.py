"""`freelance`: start and stop timers, fix entries, set rates, report and invoice.

With no arguments it opens the interactive prompt (completion and history) that accepts the
same commands. Exit codes: 0 success; 1 the state forbids it (`stop` or `cancel` with no
timer running, `start` refused while another runs, overlapping entries, unknown entry or
project; `status` with no timer running); 2 bad input (usage, unreadable date, time, rate
or name); 3 the database cannot be opened or stays locked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from apps.freelance import config as settings
from apps.freelance.billing import RoundingRule, RoundMode, RoundPer, parse_rounding
from apps.freelance.clock import local_zone, now_utc, zone_name
from apps.freelance.errors import FreelanceError, InvalidInput
from apps.freelance.reports import (
    Bucket,
    Report,
    build_report,
    clock_hours,
    money,
    report_csv,
    report_json,
)
from apps.freelance.store import Entry, OnStart, Store, default_db_path
from apps.freelance.timeparse import (
    DateOrder,
    Period,
    Reading,
    parse_moment,
    parse_period,
    parse_rate,
    period_from_bounds,
)

COMMAND_NAME = "freelance"
FUTURE_SLACK = timedelta(minutes=1)

cli = typer.Typer(
    name="freelance",
    help=(
        "Freelancer time tracker: timers per project, rates, reports and invoices. "
        "Run with no command for the interactive prompt. Exit codes: 0 ok, 1 not allowed "
        "in the current state, 2 bad input, 3 database unavailable."
    ),
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Invocation:
    """What the top-level options chose, shared by every subcommand of one run."""

    db: Path


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one line on stderr and their exit code, never a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except FreelanceError as exc:
            err.print(f"error: {exc.message}", markup=False)
            raise typer.Exit(exc.exit_code) from None

    return run


@contextmanager
def open_store(ctx: typer.Context) -> Iterator[Store]:
    """The store the top-level `--db` (or `$FREELANCE_DB`, or the XDG default) names."""
    root = ctx.find_root()
    invocation = root.obj if isinstance(root.obj, Invocation) else None
    path = invocation.db if invocation else default_db_path()
    store = Store(path, local_zone())
    try:
        yield store
    finally:
        store.close()


def reading_for(store: Store, order: DateOrder | None = None) -> Reading:
    config = settings.load_config(store)
    return Reading(now=now_utc(), zone=store.zone, order=order or config.date_order)


def split_tags(words: list[str]) -> list[str]:
    """`+tag` words after the project; anything else is a mistake worth naming."""
    stray = [word for word in words if not word.startswith("+")]
    if stray:
        raise InvalidInput(f"unexpected {stray[0]!r}: tags start with + (e.g. +meeting)")
    return [word[1:] for word in words]


def instant_or_now(text: str | None, reading: Reading, what: str) -> datetime:
    if not text:
        return reading.now
    instant = parse_moment(text, reading).instant
    if instant > reading.now + FUTURE_SLACK:
        raise InvalidInput(f"{what} {text!r} is in the future")
    return instant


def show_time(instant: datetime, store: Store, reading: Reading) -> str:
    local = instant.astimezone(store.zone)
    if local.date() == reading.today:
        return f"{local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


def describe(entry: Entry) -> str:
    tags = "".join(f" +{tag}" for tag in entry.tags)
    return f"{entry.project}{tags}"


def elapsed(entry: Entry, now: datetime) -> int:
    return int(((entry.end or now) - entry.start).total_seconds())


@cli.callback()
def freelance(
    ctx: typer.Context,
    db: Path | None = typer.Option(
        None,
        "--db",
        envvar="FREELANCE_DB",
        help="SQLite file (default: freelance.db in the XDG data dir).",
        show_default=False,
    ),
) -> None:
    """Freelancer time tracker. With no command, open the interactive prompt."""
    ctx.obj = Invocation(db=db.expanduser() if db else default_db_path())
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        from apps.freelance.shell import run_shell

        run_shell(ctx.obj.db)


@cli.command()
@reports_errors
def start(
    ctx: typer.Context,
    words: list[str] = typer.Argument(..., metavar="PROJECT [+TAG ...]", show_default=False),
    at: str | None = typer.Option(None, "--at", help="When (ISO 8601 or HH:MM today)."),
    note: str = typer.Option("", "--note", "-n", help="What the time is for."),
    if_running: OnStart | None = typer.Option(
        None, "--if-running", help="stop the running timer first, or refuse (config: on-start)."
    ),
) -> None:
    """Start a timer on PROJECT (created if new); a running timer is stopped first."""
    project, tags = words[0], split_tags(words[1:])
    with open_store(ctx) as store:
        reading = reading_for(store)
        when = instant_or_now(at, reading, "--at")
        policy = if_running or settings.load_config(store).on_start
        started = store.start_timer(project, when, tags=tags, note=note, on_start=policy)
        if started.stopped:
            stopped = started.stopped
            out.print(
                f"Stopped {describe(stopped)} at {show_time(when, store, reading)} "
                f"({clock_hours(elapsed(stopped, when))})"
            )
        out.print(f"Started {describe(started.entry)} at {show_time(when, store, reading)}")


@cli.command()
@reports_errors
def stop(
    ctx: typer.Context,
    project: str | None = typer.Argument(
        None, help="Only stop if the running timer is on this project.", show_default=False
    ),
    at: str | None = typer.Option(None, "--at", help="When (ISO 8601 or HH:MM today)."),
) -> None:
    """Stop the running timer (exit 1 when none runs)."""
    with open_store(ctx) as store:
        reading = reading_for(store)
        when = instant_or_now(at, reading, "--at")
        entry = store.stop_timer(when, project)
        out.print(
            f"Stopped {describe(entry)}: {show_time(entry.start, store, reading)} to "
            f"{show_time(when, store, reading)} ({clock_hours(elapsed(entry, when))})"
        )


@cli.command()
@reports_errors
def status(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Show the running timer and today's total; exit 1 when no timer runs."""
    with open_store(ctx) as store:
        reading = reading_for(store)
        current = store.running()
        period = parse_period(["today"], reading)
        today = build_report(store, "all", period, RoundingRule(), reading.now)
        if as_json:
            document = {
                "running": current is not None,
                "project": current.project if current else None,
                "tags": list(current.tags) if current else [],
                "start": current.start.astimezone(store.zone).isoformat() if current else None,
                "elapsed_seconds": elapsed(current, reading.now) if current else 0,
                "today_seconds": today.total_seconds,
            }
            out.print_json(json.dumps(document))
        elif current:
            out.print(
                f"Tracking {describe(current)} since {show_time(current.start, store, reading)} "
                f"({clock_hours(elapsed(current, reading.now))}); today "
                f"{clock_hours(today.total_seconds)} in all"
            )
        else:
            out.print(f"No timer running; today {clock_hours(today.total_seconds)} in all")
    if current is None:
        raise typer.Exit(1)


@cli.command()
@reports_errors
def cancel(ctx: typer.Context) -> None:
    """Discard the running timer without recording it (exit 1 when none runs)."""
    with open_store(ctx) as store:
        reading = reading_for(store)
        entry = store.cancel_timer()
        out.print(
            f"Cancelled {describe(entry)} started {show_time(entry.start, store, reading)} "
            f"({clock_hours(elapsed(entry, reading.now))} discarded)"
        )


@cli.command()
@reports_errors
def add(
    ctx: typer.Context,
    words: list[str] = typer.Argument(..., metavar="PROJECT [+TAG ...]", show_default=False),
    start_text: str = typer.Option(..., "--from", help="Start (ISO 8601 or HH:MM today)."),
    end_text: str = typer.Option(..., "--to", help="End (ISO 8601 or HH:MM today)."),
    note: str = typer.Option("", "--note", "-n", help="What the time was for."),
) -> None:
    """Record a finished chunk of time; overlapping entries are refused (exit 1)."""
    project, tags = words[0], split_tags(words[1:])
    with open_store(ctx) as store:
        reading = reading_for(store)
        begin = parse_moment(start_text, reading).instant
        end = parse_moment(end_text, reading).instant
        entry = store.add_entry(project, begin, end, tags=tags, note=note)
        out.print(f"Added #{entry.id} {describe(entry)}: {span(entry, store, reading)}")


def span(entry: Entry, store: Store, reading: Reading) -> str:
    end = show_time(entry.end, store, reading) if entry.end else "now (running)"
    return (
        f"{show_time(entry.start, store, reading)} to {end} "
        f"({clock_hours(elapsed(entry, reading.now))})"
    )


@cli.command()
@reports_errors
def edit(
    ctx: typer.Context,
    entry_id: int = typer.Argument(..., metavar="ID", help="Entry id (see `freelance log`)."),
    project: str | None = typer.Option(None, "--project", "-p", help="Move to this project."),
    start_text: str | None = typer.Option(None, "--from", help="New start."),
    end_text: str | None = typer.Option(None, "--to", help="New end (stops a running timer)."),
    note: str | None = typer.Option(None, "--note", "-n", help="New note."),
    tags: str | None = typer.Option(None, "--tags", help="Replace tags: comma-separated."),
) -> None:
    """Change an entry's project, times, note or tags."""
    with open_store(ctx) as store:
        reading = reading_for(store)
        entry = store.edit_entry(
            entry_id,
            project=project,
            start=parse_moment(start_text, reading).instant if start_text else None,
            end=parse_moment(end_text, reading).instant if end_text else None,
            note=note,
            tags=[t for t in tags.split(",") if t.strip()] if tags is not None else None,
        )
        out.print(f"Edited #{entry.id} {describe(entry)}: {span(entry, store, reading)}")


@cli.command()
@reports_errors
def remove(
    ctx: typer.Context,
    entry_id: int = typer.Argument(..., metavar="ID", help="Entry id (see `freelance log`)."),
) -> None:
    """Delete one entry."""
    with open_store(ctx) as store:
        reading = reading_for(store)
        entry = store.remove_entry(entry_id)
        out.print(f"Removed #{entry.id} {describe(entry)}: {span(entry, store, reading)}")


@cli.command()
@reports_errors
def log(
    ctx: typer.Context,
    period: list[str] | None = typer.Argument(
        None, metavar="PERIOD", help="e.g. today, last week, since 1/2/24.", show_default=False
    ),
    project: str | None = typer.Option(None, "--project", "-p", help="Only this project."),
    limit: int = typer.Option(20, "--limit", min=1, help="Most recent entries without PERIOD."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List entries with their ids: the most recent ones, or those in PERIOD."""
    with open_store(ctx) as store:
        reading = reading_for(store)
        if period:
            window = parse_period(period, reading)
            entries = store.entries_overlapping(window.start, window.end, project)
        else:
            entries = store.recent_entries(limit, project)
        if as_json:
            rows = [
                {
                    "id": e.id,
                    "project": e.project,
                    "start": e.start.astimezone(store.zone).isoformat(),
                    "end": e.end.astimezone(store.zone).isoformat() if e.end else None,
                    "seconds": elapsed(e, reading.now),
                    "tags": list(e.tags),
                    "note": e.note,
                }
                for e in entries
            ]
            out.print_json(json.dumps(rows))
            return
        table = Table("id", "project", "start", "end", "time", "tags", "note")
        for e in entries:
            local_start = e.start.astimezone(store.zone)
            end = f"{e.end.astimezone(store.zone):%H:%M}" if e.end else "running"
            table.add_row(
                str(e.id),
                e.project,
                f"{local_start:%Y-%m-%d %H:%M}",
                end,
                clock_hours(elapsed(e, reading.now)),
                " ".join(f"+{t}" for t in e.tags),
                e.note,
            )
        out.print(table if entries else "No entries.")


@cli.command()
@reports_errors
def projects(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """List projects with their rate, total time and last activity."""
    with open_store(ctx) as store:
        reading = reading_for(store)
        config = settings.load_config(store)
        all_time = Period(None, reading.now, "all time")
        everything = build_report(store, "all", all_time, config.rounding, reading.now)
        totals = {line.project: line.seconds for line in everything.lines}
        last: dict[str, datetime] = {}
        for piece in everything.slices:
            last[piece.entry.project] = max(piece.end, last.get(piece.entry.project, piece.end))
        rows = [
            {
                "project": p.name,
                "rate": float(p.rate) if p.rate is not None else None,
                "currency": p.currency or config.currency,
                "total_seconds": totals.get(p.name, 0),
                "last_active": last[p.name].astimezone(store.zone).isoformat()
                if p.name in last
                else None,
            }
            for p in store.projects()
        ]
        if as_json:
            out.print_json(json.dumps(rows))
            return
        table = Table("project", "rate", "total", "last active")
        for row in rows:
            rate = "-" if row["rate"] is None else f"{row['rate']:.2f} {row['currency'] or ''}/h"
            table.add_row(
                str(row["project"]),
                rate.replace(" /h", "/h"),
                clock_hours(int(row["total_seconds"] or 0)),
                str(row["last_active"] or "-")[:16].replace("T", " "),
            )
        out.print(table if rows else "No projects yet: `freelance start PROJECT` creates one.")


@cli.command()
@reports_errors
def rate(
    ctx: typer.Context,
    project: str = typer.Argument(..., help="Project name (created if new)."),
    value: str | None = typer.Argument(
        None, metavar="[RATE]", help="e.g. 85/h, 85.50, €85/h, 85 EUR/h; `none` clears it."
    ),
    currency: str | None = typer.Option(None, "--currency", help="ISO code, e.g. EUR."),
) -> None:
    """Show or set PROJECT's hourly rate."""
    with open_store(ctx) as store:
        if value is None:
            found = store.project(project)
            shown = money(found.rate, found.currency) + "/h" if found.rate is not None else "none"
            out.print(f"{found.name}: {shown}")
            return
        if value.lower() == "none":
            updated = store.set_rate(project, None, None)
            out.print(f"{updated.name}: rate cleared")
            return
        amount, named = parse_rate(value)
        chosen = (currency or named or settings.load_config(store).currency or "").upper() or None
        if chosen is not None and (len(chosen) != 3 or not chosen.isalpha()):
            raise InvalidInput(f"{chosen!r} is not a three-letter currency code")
        updated = store.set_rate(project, amount, chosen)
        assert updated.rate is not None
        out.print(f"{updated.name}: {money(updated.rate, updated.currency)}/h")


@cli.command()
@reports_errors
def report(
    ctx: typer.Context,
    subject: str = typer.Argument(..., metavar="PROJECT|all", help="A project, or all."),
    period: list[str] | None = typer.Argument(
        None,
        metavar="PERIOD",
        help="today, yesterday, this|last week|month|year, last 7 days, since 1/2/24, "
        "2026-01, march 2025, 2026-01-05..2026-01-09; default all time.",
        show_default=False,
    ),
    start_text: str | None = typer.Option(None, "--from", help="Start (ISO 8601 or HH:MM)."),
    end_text: str | None = typer.Option(None, "--to", help="End; a date includes that day."),
    by: Bucket = typer.Option(Bucket.DAY, "--by", help="Group the detail by day or week."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV rows per day/week and project."),
    as_markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown invoice."),
    chart: Path | None = typer.Option(None, "--chart", help="Also write a PNG of hours per day."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file."),
    round_minutes: int | None = typer.Option(None, "--round", help="Round to N minutes."),
    round_mode: RoundMode | None = typer.Option(None, "--round-mode", help="up|nearest|down"),
    round_per: RoundPer | None = typer.Option(None, "--round-per", help="entry|total"),
    date_order: DateOrder | None = typer.Option(None, "--date-order", help="dmy|mdy|ymd"),
    tag: str | None = typer.Option(None, "--tag", help="Only entries with this tag."),
    invoice_number: str | None = typer.Option(None, "--invoice-number", help="For --markdown."),
) -> None:
    """Time per project and per day or week, billable amounts, CSV, JSON or an invoice."""
    if sum((as_json, as_csv, as_markdown)) > 1:
        raise InvalidInput("choose one of --json, --csv and --markdown")
    with open_store(ctx) as store:
        config = settings.load_config(store)
        reading = reading_for(store, date_order)
        window = choose_period(period or [], start_text, end_text, reading)
        rule = config.rounding
        rule = parse_rounding(
            str(rule.minutes if round_minutes is None else round_minutes),
            (round_mode or rule.mode).value,
            (round_per or rule.per).value,
        )
        result = build_report(
            store,
            subject,
            window,
            rule,
            reading.now,
            tag=tag.lstrip("+").lower() if tag else None,
            default_currency=config.currency,
        )
        if chart is not None:
            from apps.freelance.chart import hours_per_day_chart

            hours_per_day_chart(result, chart)
        if as_json:
            emit(json.dumps(report_json(result, by), indent=2), output)
        elif as_csv:
            emit(report_csv(result, by), output)
        elif as_markdown:
            from apps.freelance.invoice import markdown_invoice

            invoice = markdown_invoice(result, issued=reading.today, number=invoice_number, by=by)
            emit(invoice, output)
        else:
            print_report(result, by)
        if chart is not None and not (as_json or as_csv or as_markdown):
            out.print(f"Chart written to {chart}")


def choose_period(
    words: list[str], start_text: str | None, end_text: str | None, reading: Reading
) -> Period:
    if words and (start_text or end_text):
        raise InvalidInput("give either a PERIOD or --from/--to, not both")
    if start_text or end_text:
        return period_from_bounds(start_text, end_text, reading)
    return parse_period(words, reading)


def emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror}") from None


def print_report(result: Report, by: Bucket) -> None:
    first = result.first_day
    span_text = f"{first} to {result.last_day}" if first else "no entries"
    title = "all projects" if result.subject == "all" else result.subject
    label = result.period.label
    shown = label if first and str(first) in label else f"{label} · {span_text}"
    out.print(f"[bold]{escape(title)}[/] · {escape(shown)} · {zone_name(result.zone)}", markup=True)
    for note in result.period.notes:
        out.print(f"  {note}")
    if not result.slices:
        out.print("No time tracked in this period.")
        return
    detail = Table("day" if by is Bucket.DAY else "week of", "project", "hours")
    for bucket, per in result.buckets(by):
        for project, seconds in sorted(per.items()):
            detail.add_row(bucket.isoformat(), project, clock_hours(seconds))
    out.print(detail)
    totals = Table("project", "tracked", "billable h", "rate", "amount")
    for line in result.lines:
        totals.add_row(
            line.project,
            clock_hours(line.seconds),
            f"{line.billable_seconds / 3600:.2f}",
            f"{money(line.rate, line.currency)}/h" if line.rate is not None else "no rate",
            money(line.amount, line.currency),
        )
    out.print(totals)
    out.print(
        f"Total {clock_hours(result.total_seconds)} tracked, "
        f"{result.billable_seconds / 3600:.2f} h billable (rounding: {result.rule.label}), "
        f"{result.amount_text()}"
    )


@cli.command("config")
@reports_errors
def config_command(
    ctx: typer.Context,
    key: str | None = typer.Argument(None, help=f"One of: {', '.join(settings.KEYS)}."),
    value: str | None = typer.Argument(None, help="New value; omit to show the key."),
    reset: bool = typer.Option(False, "--reset", help="Forget the saved value."),
) -> None:
    """Show or change settings (date-order, on-start, round, round-mode, round-per, currency)."""
    with open_store(ctx) as store:
        if key is not None and (value is not None or reset):
            settings.set_value(store, key, None if reset else value)
        if key is not None and key not in settings.KEYS:
            raise InvalidInput(f"unknown setting {key!r}; known: {', '.join(settings.KEYS)}")
        values = settings.effective(store)
        table = Table("setting", "value", "from", "meaning")
        for name, (current, source) in values.items():
            if key is None or name == key:
                table.add_row(name, current or "-", source, settings.KEYS[name].help)
        out.print(table)
        if key in (None, "date-order") and values["date-order"][0] == "locale":
            out.print(f"locale date order: {settings.load_config(store).date_order.described}")


def main(argv: list[str] | None = None) -> Any:
    """Console script entry point."""
    return cli(args=argv, prog_name="freelance")
