"""The notifications inbox over HTTP: sending, audiences, read state, validation."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import sign_up

URL = "/notifications"


def _topic() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def _send(client, admin, expected=201, **body):
    response = client.post(
        URL, json={"title": f"n-{uuid.uuid4().hex[:8]}", **body}, headers=admin.headers
    )
    assert response.status_code == expected, response.text
    return response.json()


def _inbox(client, account, **params):
    response = client.get(URL, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _unread(client, account) -> int:
    response = client.get(f"{URL}/unread-count", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["unread"]


def _clear(client, account) -> None:
    """Read everything so far: broadcasts from other tests of the run land in every inbox."""
    assert client.post(f"{URL}/read-all", headers=account.headers).status_code == 200


def _problem(response, status, field):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if body.get("field") == "data" and "missing required field" in body["detail"]:
        assert f"`{field}`" in body["detail"], body
    else:
        assert body.get("field") == field, body


def test_a_user_notification_reaches_only_that_user(client, admin, user, other_user):
    sent = _send(client, admin, audience="user", user_id=user.id, body="Your order shipped")
    assert sent["seq"] > 0 and sent["audience"] == "user" and sent["read"] is False
    mine = _inbox(client, user)
    assert mine["items"][0]["id"] == sent["id"]  # newest first (broadcasts of the run follow)
    assert [n["audience"] for n in mine["items"]].count("user") == 1
    assert mine["items"][0]["body"] == "Your order shipped"
    assert sent["id"] not in [n["id"] for n in _inbox(client, other_user)["items"]]


def test_only_admins_send_over_http(client, user):
    body = {"audience": "user", "user_id": user.id, "title": "hi"}
    assert client.post(URL, json=body).status_code == 401
    assert client.post(URL, json=body, headers=user.headers).status_code == 403


def test_unread_count_mark_one_and_mark_all(client, admin, user):
    _clear(client, user)
    sent = [_send(client, admin, audience="user", user_id=user.id) for _ in range(3)]
    assert _unread(client, user) == 3
    read = client.post(f"{URL}/{sent[0]['id']}/read", headers=user.headers)
    assert read.status_code == 200 and read.json()["read"] is True
    again = client.post(f"{URL}/{sent[0]['id']}/read", headers=user.headers)
    assert again.status_code == 200
    assert _unread(client, user) == 2
    unread = _inbox(client, user, unread="true")
    assert {n["id"] for n in unread["items"]} == {sent[1]["id"], sent[2]["id"]}
    assert client.post(f"{URL}/read-all", headers=user.headers).json() == {"marked": 2}
    assert _unread(client, user) == 0
    assert all(n["read"] for n in _inbox(client, user)["items"])
    later = _send(client, admin, audience="user", user_id=user.id)
    assert later["id"] in [n["id"] for n in _inbox(client, user, unread="true")["items"]]


def test_cannot_mark_someone_elses_notification(client, admin, user, other_user):
    sent = _send(client, admin, audience="user", user_id=user.id)
    response = client.post(f"{URL}/{sent['id']}/read", headers=other_user.headers)
    _problem(response, 404, "notification_id")
    _problem(
        client.post(f"{URL}/{uuid.uuid4()}/read", headers=user.headers), 404, "notification_id"
    )


def test_topic_notifications_reach_subscribers(client, admin, user, other_user):
    topic = _topic()
    subscribed = client.put(f"{URL}/topics/{topic}", headers=user.headers)
    assert subscribed.status_code == 200 and topic in subscribed.json()["topics"]
    sent = _send(client, admin, audience="topic", topic=topic)
    assert sent["id"] in [n["id"] for n in _inbox(client, user)["items"]]
    assert sent["id"] not in [n["id"] for n in _inbox(client, other_user)["items"]]
    assert client.delete(f"{URL}/topics/{topic}", headers=user.headers).status_code == 204
    assert sent["id"] not in [n["id"] for n in _inbox(client, user)["items"]]


def test_everyone_notifications_reach_every_user(client, admin):
    sent = _send(client, admin, audience="everyone", topic=_topic())
    for account in (sign_up(client), sign_up(client)):
        assert sent["id"] in [n["id"] for n in _inbox(client, account, page_size=100)["items"]]


def test_same_key_is_stored_once(client, admin, user):
    _clear(client, user)
    key = f"order-{uuid.uuid4().hex}"
    first = _send(client, admin, audience="user", user_id=user.id, key=key)
    second = _send(client, admin, 200, audience="user", user_id=user.id, key=key)
    assert second["id"] == first["id"] and second["seq"] == first["seq"]
    assert _unread(client, user) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"audience": "user", "title": "x"}, "user_id"),
        ({"audience": "topic", "title": "x"}, "topic"),
        ({"audience": "everyone", "title": "x", "user_id": str(uuid.uuid4())}, "user_id"),
        ({"audience": "topic", "topic": "Not A Topic", "title": "x"}, "topic"),
        ({"audience": "everyone", "title": ""}, "title"),
        ({"audience": "everyone", "title": "x\x00"}, "title"),
        ({"audience": "everyone", "title": "x", "data": {"a": "\x00"}}, "data"),
        ({"audience": "everyone", "title": "x", "data": {"a": "x" * 20_000}}, "data"),
        ({"audience": "nobody", "title": "x"}, "audience"),
        ({"title": "x"}, "audience"),
    ],
)
def test_bad_notifications_are_422_naming_the_field(client, admin, body, field):
    _problem(client.post(URL, json=body, headers=admin.headers), 422, field)


def test_preferences_quiet_hours_and_mutes(client, user):
    topic = _topic()
    response = client.patch(
        f"{URL}/preferences",
        json={"timezone": "Europe/Paris", "quiet_hours": {"start": "22:00", "end": "07:30"}},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    muted = client.put(f"{URL}/preferences/mutes/{topic}", json={}, headers=user.headers)
    assert muted.status_code == 200 and muted.json() == {"topic": topic, "until": None}
    prefs = client.get(f"{URL}/preferences", headers=user.headers).json()
    assert prefs["timezone"] == "Europe/Paris"
    assert prefs["quiet_hours"] == {"start": "22:00", "end": "07:30"}
    assert prefs["mutes"] == [{"topic": topic, "until": None}]
    assert (
        client.delete(f"{URL}/preferences/mutes/{topic}", headers=user.headers).status_code == 204
    )
    off = client.patch(f"{URL}/preferences", json={"quiet_hours": None}, headers=user.headers)
    assert off.json()["quiet_hours"] is None and off.json()["mutes"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_preferences_are_422_naming_the_field(client, user, body, field):
    response = client.patch(f"{URL}/preferences", json=body, headers=user.headers)
    assert response.status_code in (400, 422), response.text
    assert field in (response.json().get("field") or "") + response.json()["detail"]


def test_a_mute_must_end_in_the_future(client, user):
    response = client.put(
        f"{URL}/preferences/mutes/{_topic()}",
        json={"until": "2001-01-01T00:00:00Z"},
        headers=user.headers,
    )
    _problem(response, 422, "until")
    bad_topic = client.put(f"{URL}/preferences/mutes/BAD%20TOPIC", json={}, headers=user.headers)
    assert bad_topic.status_code in (400, 422)
