"""The commands against real pages in headless Chromium, one fresh tab per test."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from apps.scrape.commands import CommandError, StopSession
from tests.apps.scrape.conftest import TIMEOUT_MS


def run(session, line):
    outcome = session.execute(line)
    assert outcome is not None
    return outcome


def test_navigate_reports_status_and_final_url(session, site):
    outcome = run(session, f"navigate {site}/")
    assert outcome.value == {"url": f"{site}/", "status": 200}
    assert outcome.notice == f"200 {site}/"


def test_show_code_prints_the_page_html(session, site):
    run(session, f"navigate {site}/")
    html = run(session, "show code").lines[0]
    assert html.startswith("<!DOCTYPE html><html><head><title>Static page</title>")
    assert '<h1 id="top" class="big">Hello, scraper</h1>' in html


def test_capture_prints_outer_html_by_default(session, site):
    run(session, f"navigate {site}/")
    assert run(session, "capture h1").lines == ('<h1 id="top" class="big">Hello, scraper</h1>',)


def test_capture_text_attr_all_and_json(session, site):
    run(session, f"navigate {site}/")
    assert run(session, "capture --text #top").lines == ("Hello, scraper",)
    assert run(session, "capture --all --text li.fruit").lines == ("apple", "pear", "plum")
    assert run(session, "capture --attr data-price li").lines == ("3",)
    # --all --attr skips elements without the attribute
    assert run(session, "capture --all --attr data-price li").value == ["3", "5"]
    assert run(session, "capture --json --all --text li").lines == ('["apple", "pear", "plum"]',)


def test_capture_of_a_missing_attribute_is_an_error(session, site):
    run(session, f"navigate {site}/")
    with pytest.raises(CommandError, match="no attribute 'data-price'"):
        session.execute("capture --attr data-price li:nth-child(3)")


def test_capture_waits_for_javascript_rendered_content(session, site):
    run(session, f"navigate {site}/js")
    assert run(session, "capture --all --text p.item").lines == ("one", "two")
    assert run(session, "title").lines == ("Rendered by JS",)


def test_show_code_shows_the_rendered_dom_not_the_source(session, site):
    run(session, f"navigate {site}/js")
    run(session, "wait .item")
    assert '<p class="item">one</p>' in run(session, "show code").lines[0]


def test_a_click_reveals_content(session, site):
    run(session, f"navigate {site}/reveal")
    run(session, "click on #more")
    run(session, "wait #details")
    assert run(session, "capture --text #details").lines == ("The hidden part",)


def test_typing_into_a_form_and_submitting_it(session, site):
    run(session, f"navigate {site}/form")
    run(session, "type #name Ada Lovelace")
    run(session, "type 'input[placeholder=city]' London")
    run(session, "click on button[type=submit]")
    assert run(session, "capture --text #greeting").lines == ("Hello, Ada Lovelace of London!",)
    assert run(session, "url").lines[0].startswith(f"{site}/greet?name=Ada+Lovelace")


def test_links_are_absolute_with_their_text_on_one_line(session, site):
    run(session, f"navigate {site}/")
    assert run(session, "links").lines == (
        f"{site}/js\tRendered later",
        f"{site}/reveal\tReveal",
        f"{site}/form\tForm",
    )


def test_back_and_forward_move_through_history(session, site):
    run(session, f"navigate {site}/")
    run(session, f"navigate {site}/form")
    assert run(session, "back").value == {"url": f"{site}/"}
    assert run(session, "forward").value == {"url": f"{site}/form"}
    with pytest.raises(CommandError, match="no next page"):
        session.execute("forward")


def test_back_on_a_fresh_tab_is_an_error(session):
    with pytest.raises(CommandError, match="no previous page"):
        session.execute("back")


def test_wait_for_milliseconds(session, site):
    run(session, f"navigate {site}/")
    assert run(session, "wait 10").value is None


def test_screenshot_writes_a_png(session, site, tmp_path: Path):
    run(session, f"navigate {site}/")
    target = tmp_path / "page.png"
    outcome = run(session, f"screenshot {target}")
    assert outcome.notice == f"screenshot saved to {target}"
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_missing_element_times_out_with_one_line_and_the_session_goes_on(session, site):
    run(session, f"navigate {site}/")
    with pytest.raises(CommandError) as caught:
        session.execute("click on #absent")
    assert str(caught.value) == f"no element matches '#absent' (waited {TIMEOUT_MS} ms)"
    assert run(session, "title").lines == ("Static page",)


def test_a_disabled_element_is_named_as_not_ready(session, site):
    run(session, f"navigate {site}/reveal")
    with pytest.raises(CommandError) as caught:
        session.execute("click on #never")
    assert str(caught.value) == (
        f"1 element(s) match '#never' but the first was not visible, enabled and still "
        f"within {TIMEOUT_MS} ms"
    )


def test_a_bad_selector_is_one_line(session, site):
    run(session, f"navigate {site}/")
    with pytest.raises(CommandError) as caught:
        session.execute("capture a[")
    assert "while parsing css selector" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not str(caught.value).startswith("Locator.")


def test_a_refused_connection_is_one_line(session, site):
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run(session, f"navigate {site}/")
    with pytest.raises(CommandError) as caught:
        session.execute(f"navigate http://127.0.0.1:{port}/")
    assert str(caught.value) == f"net::ERR_CONNECTION_REFUSED at http://127.0.0.1:{port}/"
    assert run(session, "url").lines == (f"{site}/",)


def test_a_page_that_never_loads_times_out(session, site):
    with pytest.raises(CommandError) as caught:
        session.execute(f"navigate {site}/slow")
    assert str(caught.value) == f"{site}/slow: the page did not load within {TIMEOUT_MS} ms"


def test_a_missing_page_still_navigates_and_reports_404(session, site):
    assert run(session, f"navigate {site}/nope").value == {"url": f"{site}/nope", "status": 404}


def test_failed_and_non_replayable_commands_are_not_recorded(session, site, tmp_path: Path):
    run(session, f"navigate {site}/")
    with pytest.raises(CommandError):
        session.execute("capture #absent")
    run(session, "help")
    run(session, "capture h1")
    run(session, f"save script {tmp_path / 'replay.py'}")
    assert [step.line for step in session.steps] == [f"navigate {site}/", "capture h1"]


def test_exit_stops_the_session(session):
    with pytest.raises(StopSession):
        session.execute("exit")
