"""The todo rules that need no HTTP: the status lifecycle, sort parsing and priority order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from apps.kernel.errors import Invalid
from apps.todo.models import Task
from apps.todo.services import PRIORITIES, apply_status, as_utc, parse_sort, priority_rank

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _task(status: str = "todo", done_at: datetime | None = None) -> Task:
    return Task(title="t", status=status, priority=2, done_at=done_at)


def test_becoming_done_stamps_done_at():
    task = _task()
    apply_status(task, "done", NOW)
    assert (task.status, task.done_at) == ("done", NOW)


def test_staying_done_keeps_the_first_done_at():
    earlier = NOW - timedelta(days=3)
    task = _task("done", earlier)
    apply_status(task, "done", NOW)
    assert task.done_at == earlier


@pytest.mark.parametrize("status", ["todo", "in_progress"])
def test_leaving_done_clears_done_at(status):
    task = _task("done", NOW)
    apply_status(task, status, NOW)
    assert (task.status, task.done_at) == (status, None)


def test_priorities_rank_from_low_to_urgent():
    assert [priority_rank(name) for name in PRIORITIES] == [1, 2, 3, 4]
    assert PRIORITIES == ("low", "medium", "high", "urgent")


def test_sort_keys_become_order_terms_ending_with_the_id():
    terms = [str(term) for term in parse_sort("-priority,due_at")]
    assert terms[0] == "todo_task.priority DESC"
    assert terms[1] == "todo_task.due_at IS NULL", "undated tasks sort last"
    assert terms[2] == "todo_task.due_at ASC"
    assert terms[-1] == "todo_task.id ASC"


@pytest.mark.parametrize("raw", ["colour", "-", "due_at,", ",", "password_hash", "id"])
def test_unknown_sort_keys_are_invalid_naming_sort(raw):
    with pytest.raises(Invalid) as raised:
        parse_sort(raw)
    assert raised.value.field == "sort"


def test_due_dates_are_kept_in_utc():
    paris = datetime(2030, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    converted = as_utc(paris)
    assert converted == paris
    assert converted is not None and converted.utcoffset() == timedelta(0)
