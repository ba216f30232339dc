"""The blog API through HTTP: writing, visibility, ownership, filters, sorting, pagination."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Account


def unique_tag() -> str:
    return f"tag-{uuid.uuid4().hex[:10]}"


def unique_title(prefix: str = "Post") -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def write(client: Any, account: Account, **fields: Any) -> dict[str, Any]:
    body = {"title": unique_title(), "body": "Some words.", "status": "published", **fields}
    response = client.post("/blog/articles", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


def listed(client: Any, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    response = client.get("/blog/articles", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def assert_problem(response: Any, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field is None:
        return
    body = response.json()
    if body.get("field") == "data":
        # The kernel reports a missing required field at the body's root; its name is in detail.
        assert f"missing required field `{field}`" in body["detail"], body
    else:
        # An item of a list is named with its index: `tags[0]`.
        assert body["field"] == field or body["field"].startswith(f"{field}["), body


# ---- writing -------------------------------------------------------------------------------


def test_create_answers_the_article_with_slug_tags_and_author(client, user):
    title = unique_title("Hello, World!")
    response = client.post(
        "/blog/articles",
        json={"title": title, "body": "First post", "tags": [" Python ", "web  dev", "python"]},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    article = response.json()
    assert response.headers["location"].endswith(f"/blog/articles/{article['id']}")
    assert article["slug"] == title.lower().replace(", ", "-").replace("!", "").replace(" ", "-")
    assert article["tags"] == ["python", "web dev"]
    assert article["status"] == "draft"
    assert article["published_at"] is None
    assert article["author_id"] == user.id
    assert article["author_name"] == "Alice"
    assert {"created_at", "updated_at", "body", "title"} <= article.keys()


def test_publishing_stamps_published_at_once(client, user):
    article = write(client, user, status="draft")
    assert article["published_at"] is None
    published = client.patch(
        f"/blog/articles/{article['id']}", json={"status": "published"}, headers=user.headers
    ).json()
    assert published["published_at"] is not None
    again = client.patch(
        f"/blog/articles/{article['id']}", json={"body": "edited"}, headers=user.headers
    ).json()
    assert again["published_at"] == published["published_at"]


def test_explicit_published_at_is_kept(client, user):
    article = write(client, user, published_at="2001-02-03T04:05:06Z")
    assert article["published_at"].startswith("2001-02-03T04:05:06")


def test_same_title_gets_numbered_slugs(client, user, other_user):
    title = unique_title("Same Title")
    slugs = [write(client, account, title=title)["slug"] for account in (user, other_user, user)]
    base = slugs[0]
    assert slugs == [base, f"{base}-2", f"{base}-3"]


def test_title_without_letters_still_gets_a_slug(client, user):
    assert write(client, user, title="!!!")["slug"].startswith("article")


def test_writing_needs_sign_in(client):
    response = client.post("/blog/articles", json={"title": "Anonymous"})
    assert_problem(response, 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "no title"}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "tags": "python"}, "tags"),
        ({"title": "ok", "tags": [""]}, "tags"),
        ({"title": "ok", "tags": ["   "]}, "tags"),
        ({"title": "ok", "tags": ["x" * 51]}, "tags"),
        ({"title": "ok", "status": "archived"}, "status"),
        ({"title": "ok", "published_at": "yesterday"}, "published_at"),
        ({"title": "ok", "published_at": "0001-01-01T00:00:00+01:00"}, "published_at"),
    ],
)
def test_bad_article_body_is_a_4xx_naming_the_field(client, user, body, field):
    response = client.post("/blog/articles", json=body, headers=user.headers)
    assert_problem(response, 422, field)


def test_malformed_json_is_400(client, user):
    response = client.post(
        "/blog/articles",
        content=b"{nope",
        headers={**user.headers, "content-type": "application/json"},
    )
    assert_problem(response, 400)


# ---- reading and visibility ----------------------------------------------------------------


def test_get_by_id_and_by_slug(client, user):
    article = write(client, user, tags=["reading"])
    by_id = client.get(f"/blog/articles/{article['id']}")
    by_slug = client.get(f"/blog/articles/by-slug/{article['slug']}")
    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json() == by_slug.json() == article


def test_unknown_article_is_404_for_every_method(client, user):
    missing = f"/blog/articles/{uuid.uuid4()}"
    assert_problem(client.get(missing), 404)
    assert_problem(client.put(missing, json={"title": "x"}, headers=user.headers), 404)
    assert_problem(client.patch(missing, json={"title": "x"}, headers=user.headers), 404)
    assert_problem(client.delete(missing, headers=user.headers), 404)
    assert_problem(client.get("/blog/articles/by-slug/no-such-slug-here"), 404)
    assert client.get("/blog/articles/not-a-uuid").status_code == 404


def test_drafts_are_invisible_to_others(client, user, other_user):
    tag = unique_tag()
    draft = write(client, user, status="draft", tags=[tag])
    for path in (f"/blog/articles/{draft['id']}", f"/blog/articles/by-slug/{draft['slug']}"):
        assert_problem(client.get(path), 404)
        assert_problem(client.get(path, headers=other_user.headers), 404)
        assert client.get(path, headers=user.headers).status_code == 200
    assert ids(listed(client, tag=tag)) == []
    assert ids(listed(client, other_user.headers, tag=tag)) == []
    # another user cannot learn a draft exists by trying to edit it
    response = client.patch(
        f"/blog/articles/{draft['id']}", json={"title": "mine now"}, headers=other_user.headers
    )
    assert_problem(response, 404)


def test_admin_sees_drafts_of_others(client, user, admin):
    draft = write(client, user, status="draft")
    assert client.get(f"/blog/articles/{draft['id']}", headers=admin.headers).status_code == 200


def test_status_draft_lists_only_my_drafts(client, user, other_user):
    tag = unique_tag()
    mine = write(client, user, status="draft", tags=[tag])
    theirs = write(client, other_user, status="draft", tags=[tag])
    published = write(client, user, tags=[tag])
    assert ids(listed(client, user.headers, tag=tag, status="draft")) == [mine["id"]]
    assert ids(listed(client, other_user.headers, tag=tag, status="draft")) == [theirs["id"]]
    assert ids(listed(client, tag=tag)) == [published["id"]]


def test_anonymous_draft_listing_is_401_naming_status(client):
    assert_problem(client.get("/blog/articles", params={"status": "draft"}), 401, "status")


# ---- ownership -----------------------------------------------------------------------------


def test_only_the_author_edits_or_deletes(client, user, other_user):
    article = write(client, user)
    path = f"/blog/articles/{article['id']}"
    headers = other_user.headers
    assert_problem(client.patch(path, json={"title": "hijack"}, headers=headers), 403)
    assert_problem(client.put(path, json={"title": "hijack"}, headers=headers), 403)
    assert_problem(client.delete(path, headers=headers), 403)
    assert client.get(path).json()["title"] == article["title"]


def test_admin_may_edit_and_delete_any_article(client, user, admin):
    article = write(client, user)
    path = f"/blog/articles/{article['id']}"
    edited = client.patch(path, json={"title": "Moderated"}, headers=admin.headers)
    assert edited.status_code == 200
    assert edited.json()["author_name"] == "Alice"
    assert client.delete(path, headers=admin.headers).status_code == 204


def test_delete_removes_the_article(client, user):
    tag = unique_tag()
    article = write(client, user, tags=[tag])
    path = f"/blog/articles/{article['id']}"
    assert client.delete(path, headers=user.headers).status_code == 204
    assert_problem(client.get(path), 404)
    assert listed(client, tag=tag)["total"] == 0


def test_edits_need_sign_in(client, user):
    path = f"/blog/articles/{write(client, user)['id']}"
    assert_problem(client.patch(path, json={"title": "x"}), 401)
    assert_problem(client.delete(path), 401)


# ---- PUT and PATCH -------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, user):
    article = write(client, user, body="original body", tags=["keep-me"])
    path = f"/blog/articles/{article['id']}"
    patched = client.patch(path, json={"title": "New title"}, headers=user.headers)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["title"] == "New title"
    assert body["body"] == "original body"
    assert body["tags"] == ["keep-me"]
    assert body["status"] == "published"
    assert body["slug"] == article["slug"], "slugs stay stable so links keep working"
    assert body["updated_at"] >= article["updated_at"]
    retagged = client.patch(path, json={"tags": ["Other"]}, headers=user.headers).json()
    assert retagged["tags"] == ["other"]
    assert retagged["title"] == "New title"


def test_patch_with_null_or_bad_values_is_422_naming_the_field(client, user):
    path = f"/blog/articles/{write(client, user)['id']}"
    assert_problem(client.patch(path, json={"title": None}, headers=user.headers), 422, "title")
    assert_problem(client.patch(path, json={"title": " "}, headers=user.headers), 422, "title")
    assert_problem(client.patch(path, json={"tags": [1]}, headers=user.headers), 422, "tags")
    response = client.patch(path, json={"status": "gone"}, headers=user.headers)
    assert_problem(response, 422, "status")


def test_empty_patch_changes_nothing(client, user):
    article = write(client, user)
    response = client.patch(f"/blog/articles/{article['id']}", json={}, headers=user.headers)
    assert response.status_code == 200
    assert response.json() == article


def test_put_replaces_every_field(client, user):
    article = write(client, user, body="old", tags=["old-tag"])
    path = f"/blog/articles/{article['id']}"
    replaced = client.put(
        path, json={"title": "Replaced", "status": "published"}, headers=user.headers
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["title"], body["body"], body["tags"]) == ("Replaced", "", [])
    assert body["published_at"] == article["published_at"]
    assert_problem(client.put(path, json={"body": "no title"}, headers=user.headers), 422, "title")


def test_unpublishing_hides_the_article_again(client, user):
    article = write(client, user)
    path = f"/blog/articles/{article['id']}"
    client.patch(path, json={"status": "draft"}, headers=user.headers)
    assert_problem(client.get(path), 404)


# ---- filters -------------------------------------------------------------------------------


def test_tag_filter_matches_any_or_all(client, user):
    red, blue = unique_tag(), unique_tag()
    only_red = write(client, user, tags=[red])
    both = write(client, user, tags=[red, blue])
    only_blue = write(client, user, tags=[blue])
    write(client, user, tags=[unique_tag()])
    any_page = listed(client, tag=[red, blue])
    assert sorted(ids(any_page)) == sorted([only_red["id"], both["id"], only_blue["id"]])
    assert any_page["total"] == 3
    assert ids(listed(client, tag=[red, blue], match="all")) == [both["id"]]
    assert ids(listed(client, tag=[red.upper()], match="all")) in (
        [both["id"], only_red["id"]],
        [only_red["id"], both["id"]],
    )
    assert_problem(client.get("/blog/articles", params={"match": "some"}), 422, "match")


def test_every_article_in_a_list_carries_its_tags(client, user):
    tag = unique_tag()
    for extra in ("a", "b", "c"):
        write(client, user, tags=[tag, f"{tag}-{extra}"])
    items = listed(client, tag=tag)["items"]
    assert len(items) == 3
    assert all(len(item["tags"]) == 2 and tag in item["tags"] for item in items)


def test_published_date_filters(client, user):
    tag = unique_tag()
    early = write(client, user, tags=[tag], published_at="2001-01-10T00:00:00Z")
    middle = write(client, user, tags=[tag], published_at="2001-02-10T00:00:00Z")
    late = write(client, user, tags=[tag], published_at="2001-03-10T00:00:00Z")
    after = listed(client, tag=tag, published_after="2001-02-10T00:00:00Z", sort="published_at")
    assert ids(after) == [middle["id"], late["id"]]
    before = listed(client, tag=tag, published_before="2001-02-10", sort="published_at")
    assert ids(before) == [early["id"]]
    window = listed(client, tag=tag, published_after="2001-01-11", published_before="2001-03-01")
    assert ids(window) == [middle["id"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"published_after": "not-a-date"}, "published_after"),
        ({"published_before": "2001-13-01"}, "published_before"),
        ({"published_before": "9999-12-31T23:59:59-01:00"}, "published_before"),
        ({"published_after": "2002-01-01", "published_before": "2001-01-01"}, "published_before"),
        ({"sort": "popularity"}, "sort"),
        ({"sort": "-body"}, "sort"),
        ({"status": "archived"}, "status"),
        ({"page": "0"}, "page"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "many"}, "page_size"),
        ({"q": "!!!"}, "q"),
        ({"q": ""}, "q"),
        ({"tag": "   "}, "tag"),
        ({"tag": "x" * 51}, "tag"),
        ({"tag": [f"t{n}" for n in range(21)]}, "tag"),
        ({"page": str(10**20)}, "page"),
        ({"author_id": "someone"}, "author_id"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_field(client, params, field):
    assert_problem(client.get("/blog/articles", params=params), 422, field)


def test_q_searches_title_and_body_case_insensitively(client, user):
    tag = unique_tag()
    word = f"zebra{uuid.uuid4().hex[:6]}"
    in_title = write(client, user, tags=[tag], title=f"All about {word.upper()}")
    in_body = write(client, user, tags=[tag], body=f"The {word} is striped, honestly.")
    write(client, user, tags=[tag], body="Nothing to see")
    assert sorted(ids(listed(client, tag=tag, q=word))) == sorted([in_title["id"], in_body["id"]])
    assert ids(listed(client, tag=tag, q=f"{word} honestly")) == [in_body["id"]]
    assert ids(listed(client, tag=tag, q=f"{word} unicorn")) == []


def test_q_does_not_reveal_drafts(client, user, other_user):
    word = f"secret{uuid.uuid4().hex[:6]}"
    write(client, user, status="draft", body=f"a {word} plan")
    assert listed(client, other_user.headers, q=word)["total"] == 0
    assert listed(client, user.headers, q=word, status="draft")["total"] == 1


def test_sort_by_title_and_by_date(client, user):
    tag = unique_tag()
    b = write(client, user, tags=[tag], title=f"banana {tag}", published_at="2001-01-01T00:00:00Z")
    a = write(client, user, tags=[tag], title=f"Apple {tag}", published_at="2001-01-02T00:00:00Z")
    c = write(client, user, tags=[tag], title=f"cherry {tag}", published_at="2000-12-31T00:00:00Z")
    assert ids(listed(client, tag=tag, sort="title")) == [a["id"], b["id"], c["id"]]
    assert ids(listed(client, tag=tag, sort="-title")) == [c["id"], b["id"], a["id"]]
    assert ids(listed(client, tag=tag)) == [a["id"], b["id"], c["id"]]
    assert ids(listed(client, tag=tag, sort="published_at")) == [c["id"], b["id"], a["id"]]
    created = ids(listed(client, tag=tag, sort="created_at"))
    assert created == [b["id"], a["id"], c["id"]]


def test_author_filter(client, user, other_user):
    tag = unique_tag()
    mine = write(client, user, tags=[tag])
    write(client, other_user, tags=[tag])
    assert ids(listed(client, tag=tag, author_id=user.id)) == [mine["id"]]


# ---- pagination ----------------------------------------------------------------------------


def test_pagination_has_total_and_links_that_keep_the_filters(client, user):
    tag = unique_tag()
    written = [write(client, user, tags=[tag]) for _ in range(5)]
    first = listed(client, tag=tag, page_size=2)
    assert (first["total"], first["page"], first["page_size"]) == (5, 1, 2)
    assert first["prev"] is None
    link = urlsplit(first["next"])
    assert link.path == "/blog/articles"
    assert parse_qs(link.query) == {"tag": [tag], "page": ["2"], "page_size": ["2"]}
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert third["next"] is None
    assert parse_qs(urlsplit(third["prev"]).query)["page"] == ["2"]
    seen = ids(first) + ids(second) + ids(third)
    assert sorted(seen) == sorted(a["id"] for a in written)
    assert len(set(seen)) == 5
    assert listed(client, tag=tag, page=4, page_size=2)["items"] == []


# ---- tags ----------------------------------------------------------------------------------


def test_tags_count_published_articles_only(client, user):
    busy, quiet, hidden = unique_tag(), unique_tag(), unique_tag()
    write(client, user, tags=[busy, quiet])
    write(client, user, tags=[busy])
    write(client, user, tags=[busy, hidden], status="draft")
    write(client, user, tags=[hidden], status="draft")
    counts: dict[str, int] = {}
    url: str | None = "/blog/tags?page_size=100"
    while url:
        page = client.get(url).json()
        counts.update({item["name"]: item["count"] for item in page["items"]})
        url = page["next"]
    assert counts[busy] == 2
    assert counts[quiet] == 1
    assert hidden not in counts


def test_tags_list_is_paginated_and_most_used_first(client, user):
    page = client.get("/blog/tags", params={"page_size": 1})
    assert page.status_code == 200
    body = page.json()
    assert {"items", "total", "page", "page_size", "next", "prev"} <= body.keys()
    assert_problem(client.get("/blog/tags", params={"page_size": 500}), 422, "page_size")
