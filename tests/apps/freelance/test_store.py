"""Two terminals at once: the database never holds two running timers or overlapping time."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest

from apps.freelance.errors import Conflict, InvalidInput
from apps.freelance.store import OnStart, Store

T0 = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def start_together(db, policy: OnStart, count: int = 2) -> list[object]:
    """Start `count` timers from separate connections released by one barrier."""
    barrier = threading.Barrier(count)
    outcomes: list[object] = [None] * count

    def worker(index: int) -> None:
        with Store(db) as own:
            barrier.wait()
            try:
                outcomes[index] = own.start_timer(f"p{index}", T0, on_start=policy)
            except Conflict as exc:
                outcomes[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def running_rows(db) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM entries WHERE end IS NULL").fetchone()[0]


@pytest.mark.parametrize("attempt", range(5))
def test_two_simultaneous_starts_with_refuse_leave_exactly_one_timer(db, attempt):
    Store(db).close()
    outcomes = start_together(db, OnStart.REFUSE)
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    assert running_rows(db) == 1


@pytest.mark.parametrize("attempt", range(5))
def test_two_simultaneous_starts_with_stop_switch_in_some_order(db, attempt):
    Store(db).close()
    outcomes = start_together(db, OnStart.STOP)
    assert not any(isinstance(o, Conflict) for o in outcomes)
    assert running_rows(db) == 1
    with Store(db) as check:
        entries = check.entries_overlapping(None, T0 + timedelta(days=1))
    assert len(entries) == 2
    stopped = [e for e in entries if e.end is not None]
    assert len(stopped) == 1 and stopped[0].end == T0


def test_two_processes_starting_at_once_leave_one_running_timer(db, tmp_path):
    """Real separate processes, as two terminals would be."""
    Store(db).close()
    env = dict(os.environ, FREELANCE_DB=str(db), FREELANCE_ON_START="refuse")
    gate = tmp_path / "go"
    script = (
        "import os, sys, time\n"
        f"while not os.path.exists({str(gate)!r}): time.sleep(0.005)\n"
        "from apps.freelance.cli import main\n"
        "main(['start', sys.argv[1], '--at', '09:00'])\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, name], env=env, stderr=subprocess.PIPE)
        for name in ("first", "second")
    ]
    gate.touch()
    codes = sorted(proc.wait(timeout=30) for proc in procs)
    assert codes == [0, 1]
    assert running_rows(db) == 1


def test_the_database_itself_refuses_a_second_running_timer(db):
    Store(db).close()
    with sqlite3.connect(db) as con:
        con.execute("INSERT INTO projects(name, created_at) VALUES ('x', 0)")
        con.execute("INSERT INTO entries(project_id, start) VALUES (1, 0)")
        with pytest.raises(sqlite3.IntegrityError):
            con.execute("INSERT INTO entries(project_id, start) VALUES (1, 10)")


def test_overlapping_entries_are_refused(store):
    store.add_entry("a", T0, T0 + timedelta(hours=2))
    with pytest.raises(Conflict, match="overlaps entry #1"):
        store.add_entry("b", T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    store.add_entry("b", T0 + timedelta(hours=2), T0 + timedelta(hours=3))  # touching is fine


def test_start_before_the_end_of_the_last_entry_is_refused(store):
    store.add_entry("a", T0, T0 + timedelta(hours=2))
    with pytest.raises(Conflict, match="overlaps"):
        store.start_timer("b", T0 + timedelta(hours=1))


def test_start_while_running_stops_the_first_at_the_new_start(store):
    store.start_timer("a", T0)
    started = store.start_timer("b", T0 + timedelta(minutes=30))
    assert started.stopped is not None and started.stopped.end == T0 + timedelta(minutes=30)
    assert store.running().project == "b"


def test_starting_the_same_timer_again_is_a_conflict(store):
    store.start_timer("a", T0, tags=["x"])
    with pytest.raises(Conflict, match="already tracking"):
        store.start_timer("A", T0 + timedelta(minutes=5), tags=["x"])


def test_stop_before_start_is_bad_input(store):
    store.start_timer("a", T0)
    with pytest.raises(InvalidInput):
        store.stop_timer(T0 - timedelta(minutes=1))


def test_edit_moves_an_entry_and_keeps_overlap_rules(store):
    first = store.add_entry("a", T0, T0 + timedelta(hours=1), tags=["x"])
    store.add_entry("a", T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    moved = store.edit_entry(first.id, project="b", tags=["y", "z"], note="fixed")
    assert (moved.project, moved.tags, moved.note) == ("b", ("y", "z"), "fixed")
    with pytest.raises(Conflict):
        store.edit_entry(first.id, end=T0 + timedelta(hours=2, minutes=30))


@pytest.mark.parametrize("name", ["all", "+x", "two words", ""])
def test_bad_project_names_are_refused(store, name):
    with pytest.raises(InvalidInput):
        store.start_timer(name, T0)


def test_default_database_lives_in_the_xdg_data_dir(monkeypatch, tmp_path):
    from apps.freelance.store import default_db_path

    monkeypatch.delenv("FREELANCE_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "freelance" / "freelance.db"
