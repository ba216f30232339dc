"""The interactive shell through prompt_toolkit's pipe input, and its table-driven completion."""

from __future__ import annotations

import io

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from apps.scrape.commands import COMMANDS, all_names
from apps.scrape.runner import Reporter
from apps.scrape.session import Vocabulary
from apps.scrape.shell import CommandCompleter, run_shell


def complete(text, vocabulary=None):
    completer = CommandCompleter(lambda: vocabulary or Vocabulary())
    document = Document(text, len(text))
    return [
        (c.text, c.start_position) for c in completer.get_completions(document, CompleteEvent())
    ]


def test_the_shell_runs_commands_keeps_history_and_survives_errors(session, site):
    out, err = io.StringIO(), io.StringIO()
    with create_pipe_input() as pipe:
        for line in [f"navigate {site}/", "capture #absent", "bogus", "capture h1", "exit"]:
            pipe.send_text(line + "\r")
        code = run_shell(session, Reporter(out, err), input=pipe, output=DummyOutput())
    assert code == 0
    assert out.getvalue() == '<h1 id="top" class="big">Hello, scraper</h1>\n'
    errors = err.getvalue().splitlines()
    assert errors[1:] == [
        f"200 {site}/",
        "error: no element matches '#absent' (waited 1500 ms)",
        "error: unknown command 'bogus'; type help for the list",
    ]
    history = session.settings.history_file.read_text()
    assert f"+navigate {site}/\n" in history
    assert "+capture h1\n" in history


def test_end_of_input_leaves_the_shell(session):
    out, err = io.StringIO(), io.StringIO()
    with create_pipe_input() as pipe:
        pipe.send_text("help capture\r")
        pipe.close()
        code = run_shell(session, Reporter(out, err), input=pipe, output=DummyOutput())
    assert code == 0
    assert out.getvalue().startswith("usage: capture [--text] [--attr NAME] [--all] [--json] CSS")


def test_the_shell_learns_the_page_selectors_for_completion(session, site):
    session.execute(f"navigate {site}/")
    session.refresh_vocabulary()
    assert {"#top", ".big", ".fruit", "li", "h1"} <= set(session.vocabulary.selectors)
    assert f"{site}/form" in session.vocabulary.urls


def test_an_empty_line_completes_to_every_command_name():
    assert [text for text, _ in complete("")] == all_names()
    assert len(all_names()) >= len(COMMANDS)


def test_command_names_complete_across_words():
    assert complete("sh") == [("show code", -2)]
    assert complete("click ") == [("on", 0)]
    assert complete("save s") == [("script", -1)]


def test_flags_complete_from_the_command_table():
    assert complete("capture --a") == [("--attr", -3), ("--all", -3)]
    assert complete("click on --") == []
    assert complete("capture --attr ", Vocabulary(selectors=["#top"])) == []  # NAME, not CSS
    assert complete("capture --attr href #", Vocabulary(selectors=["#top"])) == [("#top", -1)]


def test_selectors_and_urls_complete_from_the_page():
    vocabulary = Vocabulary(selectors=["#top", "#tail", ".big"], urls=["http://127.0.0.1:1/a"])
    assert complete("capture --text #t", vocabulary) == [("#top", -2), ("#tail", -2)]
    assert complete("type #", vocabulary) == [("#top", -1), ("#tail", -1)]
    assert complete("type #top ", vocabulary) == []  # TEXT has no candidates
    assert complete("navigate http", vocabulary) == [("http://127.0.0.1:1/a", -4)]


def test_help_completes_command_names():
    assert complete("help cl") == [("click on", -2)]


def test_file_parameters_complete_paths(tmp_path, monkeypatch):
    (tmp_path / "replay.py").write_text("")
    monkeypatch.chdir(tmp_path)
    assert complete("save script rep") == [("lay.py", 0)]
