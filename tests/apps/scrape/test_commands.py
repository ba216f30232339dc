"""The command language without a browser: tokenizing, parsing, help and the code it replays."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.scrape.codegen import render_script
from apps.scrape.commands import (
    COMMANDS,
    CommandError,
    command_help,
    lookup,
    normalize_url,
    overview,
    parse,
)
from apps.scrape.settings import ScrapeSettings


def test_blank_and_comment_lines_carry_no_command():
    assert parse("") is None
    assert parse("   ") is None
    assert parse("# capture h1") is None


def test_a_selector_starting_with_hash_is_not_a_comment():
    invocation = parse("capture #main")
    assert invocation is not None
    assert invocation.command.name == "capture"
    assert invocation.args == {"CSS": "#main"}


def test_multi_word_command_names_are_matched_case_insensitively():
    invocation = parse("Click On button.primary")
    assert invocation is not None
    assert invocation.command.name == "click on"
    assert invocation.args == {"CSS": "button.primary"}


def test_a_trailing_selector_may_hold_spaces_without_quotes():
    invocation = parse("capture --all nav > a.item")
    assert invocation is not None
    assert invocation.args == {"CSS": "nav > a.item"}
    assert invocation.flags == {"--all": True}


def test_quotes_keep_a_selector_with_inner_quotes_whole():
    invocation = parse("""type 'input[placeholder="your name"]' Ada Lovelace""")
    assert invocation is not None
    assert invocation.args == {"CSS": 'input[placeholder="your name"]', "TEXT": "Ada Lovelace"}


def test_flag_values_are_read_in_both_spellings():
    spaced = parse("capture --attr href a")
    inline = parse("capture --attr=href a")
    assert spaced is not None and inline is not None
    assert spaced.flags == inline.flags == {"--attr": "href"}
    assert spaced.args == inline.args == {"CSS": "a"}


def test_double_dash_ends_the_flags():
    invocation = parse("wait -- --weird")
    assert invocation is not None
    assert invocation.args == {"CSS|MS": "--weird"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("bogus", "unknown command 'bogus'; type help for the list"),
        ("captur h1", "unknown command 'captur'; did you mean 'capture'?"),
        ("click #more", "did you mean 'click on'? type help click on"),
        (
            "capture",
            "capture needs CSS; usage: capture [--text] [--attr NAME] [--all] [--json] CSS...",
        ),
        (
            "capture --html h1",
            "capture has no option --html (options: --text, --attr, --all, --json)",
        ),
        ("capture --attr", "--attr needs a NAME"),
        ("capture --all=yes li", "--all takes no value"),
        ("capture --text --attr href a", "capture takes only one of --text, --attr"),
        ('type "#name', "cannot parse the line: no closing quotation"),
        ("screenshot a.png b.png", "screenshot got an unexpected 'b.png'"),
        ("title now", "title got an unexpected 'now'"),
    ],
)
def test_bad_lines_get_one_clear_line(line, message):
    with pytest.raises(CommandError) as caught:
        parse(line)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_help_lists_every_command_of_the_table_once():
    text = "\n".join(overview())
    for command in COMMANDS:
        assert text.count(f"  {command.usage} ") == 1


def test_help_for_one_command_shows_its_flags_and_example():
    lines = command_help(lookup("capture"))
    assert lines[0] == "usage: capture [--text] [--attr NAME] [--all] [--json] CSS..."
    assert any(line.strip().startswith("--attr NAME") for line in lines)
    assert any(line.strip().startswith("example: capture") for line in lines)


def test_every_example_in_the_help_parses_to_its_own_command():
    for command in COMMANDS:
        if command.example:
            invocation = parse(command.example)
            assert invocation is not None
            assert invocation.command is command


def test_bare_hosts_get_https_and_schemes_are_kept():
    assert normalize_url("example.com/a") == "https://example.com/a"
    assert normalize_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000/"
    assert normalize_url("about:blank") == "about:blank"


def test_the_saved_script_is_valid_python_with_each_step_under_its_line(tmp_path: Path):
    lines = [
        "navigate http://127.0.0.1:9/",
        "type '#q' \"it's here\"",
        "click on button",
        "capture --json --all --attr href a",
        "wait 250",
        "links",
        "screenshot shot.png",
    ]
    steps = [parse(line) for line in lines]
    settings = ScrapeSettings(
        chromium=Path("/usr/bin/chromium"),
        flags=("--headless", "--no-sandbox"),
        timeout_ms=1234,
        navigation_timeout_ms=4321,
        history_file=tmp_path / "history",
    )
    script = render_script([s for s in steps if s is not None], settings, "replay.py")
    compile(script, "replay.py", "exec")
    for line in lines:
        assert f"        # {line}\n" in script
    assert "page.locator('#q').first.fill(\"it's here\")" in script
    assert "import json" in script
    assert "page.set_default_timeout(1234)" in script
    assert "'--no-sandbox'" not in script  # added at run time, only when run as root
