"""The todo API through HTTP: CRUD, isolation, PATCH semantics, done_at, filters, bulk."""

from __future__ import annotations

import uuid

import pytest

TASKS = "/todo/tasks"


def _unique(prefix: str = "task") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _create(client, account, **fields):
    body = {"title": _unique(), **fields}
    response = client.post(TASKS, json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _list(client, account, **params):
    response = client.get(TASKS, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _problem(response, status, field):
    """A problem document naming `field`: in `field`, or, for a missing required field, in
    the detail (the kernel reports those against the body, `data`)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if body["field"] == "data":
        assert f"missing required field `{field}`" in body["detail"], body
    else:
        assert body["field"] == field, body


# ---- CRUD ------------------------------------------------------------------------------


def test_create_task_with_defaults(client, user):
    task = _create(client, user, title="Water the plants")
    assert task["title"] == "Water the plants"
    assert task["status"] == "todo"
    assert task["priority"] == "medium"
    assert task["description"] is None
    assert task["due_at"] is None
    assert task["done_at"] is None
    uuid.UUID(task["id"])


def test_create_and_read_every_field(client, user):
    task = _create(
        client,
        user,
        description="Both balconies",
        status="in_progress",
        priority="urgent",
        due_at="2031-05-01T09:30:00+02:00",
    )
    fetched = client.get(f"{TASKS}/{task['id']}", headers=user.headers)
    assert fetched.status_code == 200
    body = fetched.json()
    assert body == task
    assert body["priority"] == "urgent"
    assert body["status"] == "in_progress"
    assert body["due_at"].startswith("2031-05-01T07:30:00")


def test_delete_task(client, user):
    task = _create(client, user)
    deleted = client.delete(f"{TASKS}/{task['id']}", headers=user.headers)
    assert deleted.status_code == 204
    assert client.get(f"{TASKS}/{task['id']}", headers=user.headers).status_code == 404
    assert client.delete(f"{TASKS}/{task['id']}", headers=user.headers).status_code == 404


def test_signed_out_requests_are_refused(client):
    assert client.get(TASKS).status_code == 401
    assert client.post(TASKS, json={"title": "x"}).status_code == 401


def test_unknown_task_is_404(client, user):
    response = client.get(f"{TASKS}/{uuid.uuid4()}", headers=user.headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


# ---- isolation ---------------------------------------------------------------------------


def test_another_users_task_is_invisible(client, user, other_user):
    task = _create(client, user, title=_unique("alice-secret"))
    path = f"{TASKS}/{task['id']}"
    assert client.get(path, headers=other_user.headers).status_code == 404
    changed = client.patch(path, json={"title": "mine now"}, headers=other_user.headers)
    assert changed.status_code == 404
    assert client.delete(path, headers=other_user.headers).status_code == 404
    listed = _list(client, other_user, q=task["title"])
    assert listed["total"] == 0 and listed["items"] == []
    # Alice's task is untouched.
    assert client.get(path, headers=user.headers).json()["title"] == task["title"]


def test_listing_shows_only_my_tasks(client, user, other_user):
    mine = _create(client, user)
    theirs = _create(client, other_user)
    ids = {t["id"] for t in _list(client, user, page_size=100)["items"]}
    assert mine["id"] in ids
    assert theirs["id"] not in ids


def test_bulk_update_refuses_another_users_task_and_changes_nothing(client, user, other_user):
    mine = _create(client, other_user)
    theirs = _create(client, user)
    response = client.post(
        f"{TASKS}/bulk",
        json={"ids": [mine["id"], theirs["id"]], "status": "done"},
        headers=other_user.headers,
    )
    _problem(response, 404, "ids")
    assert response.json()["missing"] == [theirs["id"]]
    assert theirs["id"] in response.json()["detail"]
    assert client.get(f"{TASKS}/{mine['id']}", headers=other_user.headers).json()["status"] == (
        "todo"
    )
    assert client.get(f"{TASKS}/{theirs['id']}", headers=user.headers).json()["status"] == "todo"


# ---- PATCH semantics and done_at -----------------------------------------------------------


def test_patch_changes_only_the_named_fields(client, user):
    task = _create(
        client,
        user,
        description="keep me",
        priority="high",
        due_at="2030-01-01T00:00:00Z",
    )
    response = client.patch(
        f"{TASKS}/{task['id']}", json={"title": "Renamed"}, headers=user.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Renamed"
    for unchanged in ("description", "priority", "due_at", "status", "done_at"):
        assert body[unchanged] == task[unchanged]


def test_patch_null_clears_nullable_fields(client, user):
    task = _create(client, user, description="soon gone", due_at="2030-01-01T00:00:00Z")
    response = client.patch(
        f"{TASKS}/{task['id']}", json={"description": None, "due_at": None}, headers=user.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["description"] is None
    assert body["due_at"] is None
    assert body["title"] == task["title"]


def test_patch_null_title_is_refused_naming_it(client, user):
    task = _create(client, user)
    response = client.patch(f"{TASKS}/{task['id']}", json={"title": None}, headers=user.headers)
    _problem(response, 422, "title")


def test_empty_patch_changes_nothing(client, user):
    task = _create(client, user, description="same")
    response = client.patch(f"{TASKS}/{task['id']}", json={}, headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    for key in ("title", "description", "status", "priority", "due_at", "done_at"):
        assert body[key] == task[key]


def test_done_at_is_set_on_done_and_cleared_when_leaving_done(client, user):
    task = _create(client, user)
    path = f"{TASKS}/{task['id']}"
    done = client.patch(path, json={"status": "done"}, headers=user.headers).json()
    assert done["status"] == "done"
    assert done["done_at"] is not None
    again = client.patch(path, json={"status": "done", "title": "x"}, headers=user.headers).json()
    assert again["done_at"] == done["done_at"], "staying done keeps the first done_at"
    reopened = client.patch(path, json={"status": "in_progress"}, headers=user.headers).json()
    assert reopened["done_at"] is None


def test_creating_a_done_task_stamps_done_at(client, user):
    assert _create(client, user, status="done")["done_at"] is not None


# ---- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "nul \x00 byte"}, "title"),
        ({"title": "ok", "description": "nul \x00 byte"}, "description"),
        ({"title": "ok", "status": "finished"}, "status"),
        ({"title": "ok", "priority": "critical"}, "priority"),
        ({"title": "ok", "due_at": "tomorrow"}, "due_at"),
        ({"title": "ok", "due_at": "2030-01-01T00:00:00"}, "due_at"),
        ({"title": "ok", "due_at": "1800-01-01T00:00:00Z"}, "due_at"),
        ({"description": "no title"}, "title"),
    ],
)
def test_bad_task_body_is_422_naming_the_field(client, user, body, field):
    _problem(client.post(TASKS, json=body, headers=user.headers), 422, field)


def test_malformed_json_is_a_4xx(client, user):
    response = client.post(
        TASKS, content=b"{nope", headers={**user.headers, "content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "finished"}, "status"),
        ({"sort": "colour"}, "sort"),
        ({"sort": "due_at,,title"}, "sort"),
        ({"due_before": "not-a-date"}, "due_before"),
        ({"due_before": "2030-01-01T00:00:00"}, "due_before"),
        ({"due_after": "2030-01-01T00:00:00"}, "due_after"),
        ({"q": "x" * 201}, "q"),
        ({"q": "nul \x00 byte"}, "q"),
        ({"page": "0"}, "page"),
        ({"page_size": "1000"}, "page_size"),
        ({"due_after": "2030-02-01T00:00:00Z", "due_before": "2030-01-01T00:00:00Z"}, "due_after"),
    ],
)
def test_bad_list_query_is_4xx_naming_the_parameter(client, user, params, field):
    response = client.get(TASKS, params=params, headers=user.headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["field"] == field, response.json()


# ---- filters, sorting, pagination ----------------------------------------------------------------


def test_filter_by_repeated_status(client, user):
    tag = _unique("status")
    todo = _create(client, user, title=f"{tag} a", status="todo")
    doing = _create(client, user, title=f"{tag} b", status="in_progress")
    done = _create(client, user, title=f"{tag} c", status="done")
    ids = {t["id"] for t in _list(client, user, q=tag, status=["todo", "done"])["items"]}
    assert ids == {todo["id"], done["id"]}
    only = _list(client, user, q=tag, status="in_progress")
    assert [t["id"] for t in only["items"]] == [doing["id"]]


def test_filter_by_due_window(client, user):
    tag = _unique("due")
    early = _create(client, user, title=f"{tag} early", due_at="2030-01-05T00:00:00Z")
    middle = _create(client, user, title=f"{tag} middle", due_at="2030-01-10T00:00:00Z")
    _create(client, user, title=f"{tag} late", due_at="2030-01-20T00:00:00Z")
    _create(client, user, title=f"{tag} someday")
    window = _list(
        client, user, q=tag, due_after="2030-01-05T00:00:00Z", due_before="2030-01-20T00:00:00Z"
    )
    assert {t["id"] for t in window["items"]} == {early["id"], middle["id"]}
    before = _list(client, user, q=tag, due_before="2030-01-06T00:00:00Z")
    assert [t["id"] for t in before["items"]] == [early["id"]]


def test_search_is_case_insensitive_over_title_and_description(client, user):
    tag = _unique("Search")
    in_title = _create(client, user, title=f"Buy {tag.upper()} milk")
    in_description = _create(client, user, title="Something", description=f"about {tag}")
    _create(client, user, title="unrelated")
    found = _list(client, user, q=tag.lower())
    assert {t["id"] for t in found["items"]} == {in_title["id"], in_description["id"]}


def test_search_treats_wildcards_literally(client, user):
    tag = _unique("wild")
    literal = _create(client, user, title=f"{tag} 100% done")
    _create(client, user, title=f"{tag} 100 done")
    found = _list(client, user, q=f"{tag} 100%")
    assert [t["id"] for t in found["items"]] == [literal["id"]]


def test_sort_by_priority_then_due_date(client, user):
    tag = _unique("sort")
    low = _create(client, user, title=f"{tag} low", priority="low", due_at="2030-01-01T00:00:00Z")
    urgent_late = _create(
        client, user, title=f"{tag} ul", priority="urgent", due_at="2030-03-01T00:00:00Z"
    )
    urgent_early = _create(
        client, user, title=f"{tag} ue", priority="urgent", due_at="2030-02-01T00:00:00Z"
    )
    urgent_undated = _create(client, user, title=f"{tag} un", priority="urgent")
    items = _list(client, user, q=tag, sort="-priority,due_at")["items"]
    assert [t["id"] for t in items] == [
        urgent_early["id"],
        urgent_late["id"],
        urgent_undated["id"],
        low["id"],
    ]
    by_due_desc = _list(client, user, q=tag, sort="-due_at")["items"]
    assert by_due_desc[0]["id"] == urgent_late["id"]
    assert by_due_desc[-1]["id"] == urgent_undated["id"], "tasks without a due date sort last"


def test_pagination_links_keep_the_filters(client, user):
    tag = _unique("page")
    created = [_create(client, user, title=f"{tag} {i}") for i in range(5)]
    first = _list(client, user, q=tag, sort="created_at", page_size=2)
    assert first["total"] == 5
    assert first["page"] == 1 and first["page_size"] == 2
    assert first["prev"] is None
    assert f"q={tag}" in first["next"] and "page=2" in first["next"]
    seen = [t["id"] for t in first["items"]]
    link = first["next"]
    while link:
        page = client.get(link, headers=user.headers).json()
        seen += [t["id"] for t in page["items"]]
        link = page["next"]
    assert seen == [t["id"] for t in created]


# ---- bulk ------------------------------------------------------------------------------------


def test_bulk_sets_status_of_all_and_stamps_done_at(client, user):
    tasks = [_create(client, user) for _ in range(3)]
    ids = [t["id"] for t in tasks]
    response = client.post(
        f"{TASKS}/bulk", json={"ids": [*ids, ids[0]], "status": "done"}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["updated"] == 3
    assert [t["id"] for t in body["items"]] == ids
    for task_id in ids:
        fetched = client.get(f"{TASKS}/{task_id}", headers=user.headers).json()
        assert fetched["status"] == "done"
        assert fetched["done_at"] is not None


def test_bulk_with_an_unknown_id_changes_nothing(client, user):
    task = _create(client, user)
    ghost = str(uuid.uuid4())
    response = client.post(
        f"{TASKS}/bulk", json={"ids": [task["id"], ghost], "status": "done"}, headers=user.headers
    )
    _problem(response, 404, "ids")
    assert response.json()["missing"] == [ghost]
    fetched = client.get(f"{TASKS}/{task['id']}", headers=user.headers).json()
    assert fetched["status"] == "todo"
    assert fetched["done_at"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": [], "status": "done"}, "ids"),
        ({"ids": ["not-a-uuid"], "status": "done"}, "ids[0]"),
        ({"ids": [str(uuid.uuid4())], "status": "archived"}, "status"),
        ({"status": "done"}, "ids"),
    ],
)
def test_bad_bulk_body_is_422_naming_the_field(client, user, body, field):
    _problem(client.post(f"{TASKS}/bulk", json=body, headers=user.headers), 422, field)
