"""The plain commands: what they print, the JSON shape, files they write, their exit codes."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest
from PIL import Image


def test_start_stop_status_cycle(run):
    assert run("start", "client-a", "+call", "--at", "9:00").exit_code == 0
    status = run("status")
    assert status.exit_code == 0
    assert "Tracking client-a +call since 09:00 (3:00)" in status.stdout
    stopped = run("stop", "--at", "10:30")
    assert stopped.exit_code == 0
    assert "09:00 to 10:30 (1:30)" in stopped.stdout


def test_stop_with_nothing_running_exits_1(run):
    result = run("stop")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no timer is running"


def test_status_and_cancel_with_nothing_running_exit_1(run):
    assert run("status").exit_code == 1
    assert run("cancel").exit_code == 1


def test_start_while_running_stops_the_first_by_default(run, run_json):
    run("start", "a", "--at", "9:00")
    result = run("start", "b", "--at", "10:00")
    assert result.exit_code == 0
    assert "Stopped a at 10:00 (1:00)" in result.stdout
    assert run_json("status", "--json")["project"] == "b"


def test_start_while_running_can_be_refused_by_config(run):
    assert run("config", "on-start", "refuse").exit_code == 0
    run("start", "a", "--at", "9:00")
    refused = run("start", "b", "--at", "10:00")
    assert refused.exit_code == 1
    assert "already running on a since 2026-03-30 09:00" in refused.stderr
    assert run("start", "b", "--at", "10:00", "--if-running", "stop").exit_code == 0


def test_stop_names_the_wrong_project(run):
    run("start", "a", "--at", "9:00")
    result = run("stop", "b")
    assert result.exit_code == 1
    assert "running timer is on a, not b" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("start", "a", "--at", "25:00"),
        ("start", "a", "--at", "tomorrowish"),
        ("start", "a", "--at", "13:00"),  # in the future (now is 12:00)
        ("start", "a", "stray-word"),
        ("add", "a", "--from", "2026-03-29 02:30", "--to", "2026-03-29 04:00"),
        ("report", "all", "since", "13/13/24"),
        ("report", "all", "--json", "--csv"),
        ("rate", "a", "lots"),
        ("config", "date-order", "sideways"),
        ("start",),  # usage error: missing PROJECT
        ("frobnicate",),  # unknown command
    ],
)
def test_bad_input_exits_2_without_a_traceback(run, args):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_unknown_project_or_entry_exits_1(run):
    assert run("report", "nobody").exit_code == 1
    assert run("remove", "42").exit_code == 1
    assert run("edit", "42", "--note", "x").exit_code == 1


def test_unusable_database_exits_3(run, db, monkeypatch):
    db.parent.mkdir(parents=True)
    db.mkdir()  # a directory where the file should be
    result = run("status")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: cannot open the database")


def test_add_overlap_exits_1(run):
    assert run("add", "a", "--from", "2026-01-05 09:00", "--to", "2026-01-05 11:00").exit_code == 0
    result = run("add", "b", "--from", "2026-01-05 10:00", "--to", "2026-01-05 12:00")
    assert result.exit_code == 1
    assert "overlaps entry #1" in result.stderr


def test_report_json_shape(run, run_json):
    run("rate", "client-x", "85/h", "--currency", "EUR")
    run("add", "client-x", "+dev", "--from", "2026-03-23 22:00", "--to", "2026-03-24 01:00")
    document = run_json("report", "client-x", "last", "week", "--json")
    assert set(document) >= {
        "project",
        "from",
        "to",
        "total_seconds",
        "billable_amount",
        "by_day",
        "entries",
    }
    assert document["project"] == "client-x"
    assert document["from"] == "2026-03-23T00:00:00+01:00"
    assert document["to"] == "2026-03-30T00:00:00+02:00"
    assert document["total_seconds"] == 3 * 3600
    assert document["billable_amount"] == 255.0
    assert document["currency"] == "EUR"
    assert document["by_day"] == [
        {"date": "2026-03-23", "seconds": 7200},
        {"date": "2026-03-24", "seconds": 3600},
    ]
    [entry] = document["entries"]
    assert entry["id"] == 1 and entry["tags"] == ["dev"] and entry["seconds"] == 10800
    assert entry["start"] == "2026-03-23T22:00:00+01:00"


def test_report_from_to_options_and_rounding_flags(run_json, run):
    run("add", "p", "--from", "2026-03-02 09:00", "--to", "2026-03-02 09:07")
    run("add", "p", "--from", "2026-03-03 09:00", "--to", "2026-03-03 09:07")
    document = run_json(
        "report", "p", "--from", "2026-03-03", "--to", "2026-03-03", "--round", "6", "--json"
    )
    assert document["total_seconds"] == 7 * 60
    assert document["billable_seconds"] == 12 * 60
    per_total = run_json("report", "p", "--round", "15", "--round-per", "total", "--json")
    assert per_total["billable_seconds"] == 15 * 60
    per_entry = run_json("report", "p", "--round", "15", "--json")
    assert per_entry["billable_seconds"] == 30 * 60


def test_report_header_shows_how_an_ambiguous_date_was_read(run):
    run("add", "p", "--from", "2026-01-05 09:00", "--to", "2026-01-05 10:00")
    run("config", "date-order", "dmy")
    day_first = run("report", "p", "since", "1/2/26")
    assert "read '1/2/26' as 1 February 2026 (day/month/year order)" in day_first.stdout
    assert "No time tracked" in day_first.stdout
    month_first = run("report", "p", "since", "1/2/26", "--date-order", "mdy")
    assert "read '1/2/26' as 2 January 2026 (month/day/year order)" in month_first.stdout
    assert "1:00" in month_first.stdout


def test_env_date_order_beats_saved_config(run, monkeypatch):
    run("config", "date-order", "dmy")
    monkeypatch.setenv("FREELANCE_DATE_ORDER", "mdy")
    assert "2 January 2026" in run("report", "all", "since", "1/2/26").stdout


def test_csv_output_parses(run):
    run("add", "a", "--from", "2026-03-02 09:00", "--to", "2026-03-02 10:30")
    run("add", "b", "--from", "2026-03-02 11:00", "--to", "2026-03-02 11:45")
    rows = list(csv.DictReader(io.StringIO(run("report", "all", "--csv").stdout)))
    assert [(r["day"], r["project"], r["seconds"]) for r in rows] == [
        ("2026-03-02", "a", "5400"),
        ("2026-03-02", "b", "2700"),
    ]


def test_markdown_invoice(run, tmp_path):
    run("rate", "client-x", "€90/h")
    run("add", "client-x", "--from", "2026-03-02 09:00", "--to", "2026-03-02 10:05")
    target = tmp_path / "invoice.md"
    result = run(
        "report",
        "client-x",
        "this",
        "month",
        "--markdown",
        "--round",
        "15",
        "--invoice-number",
        "2026-007",
        "-o",
        str(target),
    )
    assert result.exit_code == 0
    text = target.read_text()
    assert text.startswith("# Invoice 2026-007: client-x")
    assert "| client-x | 1:05 | 1.25 | 90.00 EUR/h | 112.50 EUR |" in text
    assert "Rounding: 15 min, up, per entry" in text


def test_chart_is_a_valid_png(run, tmp_path):
    run("add", "a", "--from", "2026-03-02 09:00", "--to", "2026-03-02 12:00")
    run("add", "b", "--from", "2026-03-04 09:00", "--to", "2026-03-04 10:00")
    chart = tmp_path / "hours.png"
    result = run("report", "all", "this", "month", "--chart", str(chart))
    assert result.exit_code == 0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(chart) as image:
        image.verify()
        assert image.format == "PNG" and image.size[0] > 100


def test_log_edit_remove(run, run_json):
    run("add", "a", "--from", "2026-03-02 09:00", "--to", "2026-03-02 10:00")
    [entry] = run_json("log", "--json")
    assert run("edit", str(entry["id"]), "--to", "2026-03-02 10:30", "--tags", "x,y").exit_code == 0
    [edited] = run_json("log", "--json")
    assert edited["seconds"] == 5400 and edited["tags"] == ["x", "y"]
    assert run("remove", str(entry["id"])).exit_code == 0
    assert run_json("log", "--json") == []


def test_projects_and_rates(run, run_json):
    run("rate", "client-a", "85/h")
    run("add", "client-a", "--from", "2026-03-02 09:00", "--to", "2026-03-02 10:00")
    assert run("rate", "client-a").stdout.strip() == "client-a: 85.00/h"
    [project] = run_json("projects", "--json")
    assert project["project"] == "client-a" and project["rate"] == 85.0
    assert project["total_seconds"] == 3600


def test_instants_are_stored_in_utc(run, db):
    run("add", "a", "--from", "2026-01-05 09:00", "--to", "2026-01-05 10:00")
    with sqlite3.connect(db) as con:
        start, end = con.execute("SELECT start, end FROM entries").fetchone()
    assert start == 1767600000  # 2026-01-05T08:00:00Z
    assert end - start == 3600


def test_every_command_has_help(run):
    for command in (
        "start",
        "stop",
        "status",
        "cancel",
        "add",
        "edit",
        "remove",
        "log",
        "projects",
        "rate",
        "report",
        "config",
    ):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Usage" in result.stdout
