"""Creating, reading, changing and deleting short links through HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from tests.apps.shortener.conftest import LINKS, anonymous, create, follow, unique_alias


def _problem(response, status, field):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if body.get("field") == "data":
        assert f"`{field}`" in body["detail"], body
    else:
        assert body.get("field") == field, body
    return body


def test_anonymous_link_gets_a_seven_character_code(client):
    link = create(client, url="https://example.com/a/long/path?q=1")
    assert len(link["code"]) == 7
    assert link["code"].isalnum()
    assert link["short_url"].endswith("/" + link["code"])
    assert link["url"] == "https://example.com/a/long/path?q=1"
    assert link["redirect_type"] == 302
    assert link["anonymous"] is True
    assert link["visits"] == 0


def test_codes_of_consecutive_links_are_not_in_order(client):
    codes = [create(client)["code"] for _ in range(6)]
    assert len(set(codes)) == 6
    # Sequence numbers n, n+1, ... in plain base62 would share their first five characters.
    assert len({code[:5] for code in codes}) == 6


def test_alias_is_used_as_the_code(client):
    alias = unique_alias()
    link = create(client, url="https://example.org/", alias=alias)
    assert link["code"] == alias
    assert follow(client, alias).headers["location"] == "https://example.org/"


def test_taken_alias_is_a_conflict(client):
    alias = unique_alias()
    create(client, alias=alias)
    response = client.post(
        LINKS, json={"url": "https://example.net/", "alias": alias}, headers=anonymous()
    )
    _problem(response, 409, "alias")


def test_reserved_words_are_refused_as_aliases(client):
    for word in ("shortener", "auth", "health", "todo", "Metrics", "schema", "static"):
        response = client.post(
            LINKS, json={"url": "https://example.net/", "alias": word}, headers=anonymous()
        )
        _problem(response, 422, "alias")


def test_alias_must_match_the_pattern(client):
    for alias in ("ab", "a" * 33, "has space", "slash/es", "dot.ted", "ünï"):
        response = client.post(
            LINKS, json={"url": "https://example.net/", "alias": alias}, headers=anonymous()
        )
        _problem(response, 422, "alias")


def test_only_http_and_https_urls(client):
    for url in (
        "ftp://example.com/file",
        "javascript:alert(1)",
        "mailto:someone@example.com",
        "example.com/no-scheme",
        "https://",
        "http://exa mple.com/",
        "https://user:pass@example.com/",
        "http://example.com:99999/",
        "",
    ):
        response = client.post(LINKS, json={"url": url}, headers=anonymous())
        _problem(response, 422, "url")


def test_urls_longer_than_2048_characters_are_refused(client):
    base = "https://example.com/"
    ok = create(client, url=base + "a" * (2048 - len(base)))
    assert len(ok["url"]) == 2048
    response = client.post(
        LINKS, json={"url": base + "a" * (2049 - len(base))}, headers=anonymous()
    )
    _problem(response, 422, "url")


def test_url_pointing_back_at_the_shortener_is_refused(client):
    for url in (
        "http://127.0.0.1/abcdefg",  # the host this request was sent to
        "http://127.0.0.1:8000/abcdefg",  # the configured public base URL
        "HTTP://127.0.0.1.:8000/x",
    ):
        response = client.post(LINKS, json={"url": url}, headers=anonymous())
        _problem(response, 422, "url")
    assert create(client, url="http://127.0.0.1:9999/other-service")["code"]


def test_non_ascii_urls_are_stored_encoded(client):
    link = create(client, url="https://bücher.example/straße?q=süß")
    assert link["url"] == "https://xn--bcher-kva.example/stra%C3%9Fe?q=s%C3%BC%C3%9F"
    assert follow(client, link["code"]).headers["location"] == link["url"]


def test_nul_characters_are_refused(client):
    response = client.post(LINKS, json={"url": "https://example.com/\x00"}, headers=anonymous())
    _problem(response, 422, "url")


def test_bad_redirect_type_expiry_and_max_visits(client):
    cases = [
        ({"redirect_type": 303}, "redirect_type"),
        ({"max_visits": 0}, "max_visits"),
        ({"max_visits": 10**12}, "max_visits"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "2031-01-01T00:00:00"}, "expires_at"),
        ({"expires_at": "not a date"}, "expires_at"),
        ({"unknown": 1}, "unknown"),
    ]
    for extra, field in cases:
        response = client.post(
            LINKS, json={"url": "https://example.com/", **extra}, headers=anonymous()
        )
        assert response.status_code in (400, 422), (extra, response.text)
        body = response.json()
        assert field in (body.get("field") or "") + body["detail"], (extra, body)


def test_every_redirect_type_is_kept(client):
    for status in (301, 302, 307, 308):
        link = create(client, redirect_type=status)
        assert link["redirect_type"] == status
        assert follow(client, link["code"]).status_code == status


def test_anonymous_creation_is_rate_limited(client):
    headers = anonymous()
    statuses = [
        client.post(LINKS, json={"url": "https://example.com/"}, headers=headers).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [201] * 20
    assert statuses[20] == 429
    limited = client.post(LINKS, json={"url": "https://example.com/"}, headers=headers)
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert create(client)["code"]  # another address is not limited


def test_owner_lists_their_links_newest_first(client, user, other_user):
    mine = [create(client, user.headers)["code"] for _ in range(3)]
    create(client, other_user.headers)
    create(client)
    response = client.get(LINKS, params={"page_size": 2}, headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert [item["code"] for item in body["items"]] == mine[::-1][:2]
    assert body["next"]
    assert all(item["anonymous"] is False for item in body["items"])


def test_listing_needs_a_signed_in_user(client):
    assert client.get(LINKS).status_code == 401


def test_owner_changes_the_target(client, user):
    link = create(client, user.headers, url="https://example.com/old")
    assert follow(client, link["code"]).headers["location"] == "https://example.com/old"
    response = client.patch(
        f"{LINKS}/{link['code']}", json={"url": "https://example.com/new"}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["url"] == "https://example.com/new"
    assert follow(client, link["code"]).headers["location"] == "https://example.com/new"


def test_patch_validates_like_create(client, user):
    link = create(client, user.headers)
    path = f"{LINKS}/{link['code']}"
    _problem(client.patch(path, json={"url": "ftp://x.example/"}, headers=user.headers), 422, "url")
    _problem(
        client.patch(path, json={"expires_at": "2001-01-01T00:00:00Z"}, headers=user.headers),
        422,
        "expires_at",
    )


def test_others_cannot_change_or_delete_my_link(client, user, other_user):
    link = create(client, user.headers)
    path = f"{LINKS}/{link['code']}"
    assert (
        client.patch(
            path, json={"url": "https://evil.example/"}, headers=other_user.headers
        ).status_code
        == 403
    )
    assert client.delete(path, headers=other_user.headers).status_code == 403
    assert client.get(path, headers=other_user.headers).status_code == 403
    assert client.get(f"{path}/stats", headers=other_user.headers).status_code == 403
    assert client.get(path, headers=user.headers).status_code == 200


def test_admin_may_change_any_owned_link(client, user, admin):
    link = create(client, user.headers)
    response = client.patch(
        f"{LINKS}/{link['code']}", json={"redirect_type": 301}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["redirect_type"] == 301


def test_anonymous_links_cannot_be_changed(client, user):
    link = create(client)
    path = f"{LINKS}/{link['code']}"
    assert (
        client.patch(path, json={"url": "https://x.example/"}, headers=user.headers).status_code
        == 403
    )
    assert client.delete(path, headers=user.headers).status_code == 403
    assert client.get(path).status_code == 200


def test_deleted_link_no_longer_redirects(client, user):
    link = create(client, user.headers)
    assert follow(client, link["code"]).status_code == 302
    assert client.delete(f"{LINKS}/{link['code']}", headers=user.headers).status_code == 204
    assert follow(client, link["code"]).status_code == 404
    assert client.get(f"{LINKS}/{link['code']}", headers=user.headers).status_code == 404


def test_unknown_code_in_the_api_is_404(client, user):
    assert client.get(f"{LINKS}/nope-{uuid.uuid4().hex[:8]}").status_code == 404
    assert client.get(f"{LINKS}/nope-{uuid.uuid4().hex[:8]}/qr").status_code == 404
    response = client.delete(f"{LINKS}/nope-{uuid.uuid4().hex[:8]}", headers=user.headers)
    assert response.status_code == 404


def test_qr_code_is_a_png_of_the_short_url(client):
    link = create(client)
    response = client.get(f"{LINKS}/{link['code']}/qr", params={"scale": 4})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(response.content))
    assert image.size[0] == image.size[1] >= 21 * 4
    bigger = client.get(f"{LINKS}/{link['code']}/qr", params={"scale": 8})
    assert Image.open(BytesIO(bigger.content)).size[0] > image.size[0]
    assert client.get(f"{LINKS}/{link['code']}/qr", params={"scale": 0}).status_code == 422


def test_expires_at_is_answered_in_utc(client):
    moment = datetime.now(UTC) + timedelta(days=3)
    local = moment.astimezone(timezone_plus_two()).isoformat()
    link = create(client, expires_at=local)
    assert link["expires_at"].endswith("Z") or link["expires_at"].endswith("+00:00")
    assert datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00")) == moment


def timezone_plus_two() -> timezone:
    return timezone(timedelta(hours=2))
