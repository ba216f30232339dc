"""The interactive prompt, driven through a real pseudo-terminal and through prompt_toolkit."""

from __future__ import annotations

import os
import sys

import pexpect
import pytest
from prompt_toolkit import PromptSession
from prompt_toolkit.application import create_app_session
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from typer.main import get_command

from apps.freelance.cli import cli
from apps.freelance.shell import CommandCompleter, run_line, run_shell

PROMPT = r"freelance[^>\r\n]*>"


@pytest.fixture
def terminal(db, tmp_path):
    env = dict(
        os.environ,
        TERM="xterm",
        PROMPT_TOOLKIT_NO_CPR="1",
        FREELANCE_DATE_ORDER="dmy",
        FREELANCE_HISTORY=str(tmp_path / "history"),
    )
    child = pexpect.spawn(
        sys.executable,
        ["-m", "apps.freelance"],
        env=env,
        encoding="utf-8",
        timeout=15,
        dimensions=(50, 200),
    )
    child.expect(PROMPT)
    yield child
    if child.isalive():
        child.terminate(force=True)


def test_interactive_session_through_a_pty(terminal, tmp_path):
    terminal.sendline("start client-x +call --at 9:00")
    terminal.expect("Started client-x \\+call at 09:00")
    terminal.expect(r"freelance \(client-x 3:00\)>")  # the prompt shows the running timer
    terminal.sendline("stop --at 11:30")
    terminal.expect(r"09:00 to 11:30 \(2:30\)")
    terminal.expect(PROMPT)

    terminal.send("rep\t")  # Tab completes the command ...
    terminal.expect("report")
    terminal.send("cli\t")  # ... and the project name from the database
    terminal.expect("client-x")
    terminal.sendline("since 1/2/24")
    terminal.expect("read '1/2/24' as 1 February 2024 \\(day/month/year order\\)")
    terminal.expect("Total 2:30 tracked")
    terminal.expect(PROMPT)

    terminal.sendline("stop")  # an error is reported and the prompt carries on
    terminal.expect("error: no timer is running")
    terminal.expect(PROMPT)
    terminal.sendline("report all this month --by day")
    terminal.expect("2026-03-30")
    terminal.expect(PROMPT)
    terminal.sendeof()
    terminal.expect(pexpect.EOF)
    terminal.close()
    assert terminal.exitstatus == 0
    history = (tmp_path / "history").read_text()
    assert "+report client-x since 1/2/24" in history


def completions(text: str, projects: list[str] | None = None) -> list[str]:
    completer = CommandCompleter(get_command(cli), lambda: projects or [])
    found = completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    return [c.text.strip() for c in found]


def test_completion_of_commands_projects_periods_and_options():
    assert completions("re") == ["remove", "report"]
    assert completions("report ", ["client-x", "other"]) == ["client-x", "other", "all"]
    assert "last week" in completions("report client-x ")
    assert completions("report client-x last ") == ["week", "month", "year", "7 days"]
    assert completions("report all --by ") == ["day", "week"]
    assert "--markdown" in completions("report all --m")
    assert completions("config date-order ") == ["locale", "dmy", "mdy", "ymd"]


def test_a_bad_line_reports_its_exit_code_and_exit_leaves(db, capsys):
    group = get_command(cli)
    assert run_line(group, db, "stop") == 1
    assert run_line(group, db, "report all since 31/31/24") == 2
    assert run_line(group, db, 'start "unclosed') == 2
    assert run_line(group, db, "") == 0
    assert run_line(group, db, "exit") is None
    assert "error: no timer is running" in capsys.readouterr().err


def test_prompt_toolkit_input_runs_commands_until_eof(db, run_json):
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text("start alpha --at 8:00\r")
        pipe.send_text("start beta --at 9:15\r")
        pipe.send_text("help report\r")
        pipe.close()
        run_shell(db, PromptSession(input=pipe, output=DummyOutput()))
    document = run_json("report", "all", "today", "--json")
    assert [(p["project"], p["total_seconds"]) for p in document["projects"]] == [
        ("alpha", 75 * 60),
        ("beta", (12 * 60 - 9 * 60 - 15) * 60),
    ]


def test_piped_lines_run_as_a_script_and_report_the_failure(db, run_json):
    from apps.freelance.shell import run_script

    lines = ["start gamma --at 10:00\n", "stop --at 11:00\n", "stop\n", "projects\n"]
    assert run_script(get_command(cli), db, lines) == 1
    assert run_json("projects", "--json")[0]["total_seconds"] == 3600
