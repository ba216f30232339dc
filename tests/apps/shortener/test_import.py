"""Bulk import of URLs from CSV."""

from __future__ import annotations

import uuid

from tests.apps.shortener.conftest import LINKS, follow, unique_alias

IMPORT = f"{LINKS}/import"


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_import_creates_good_rows_and_reports_bad_ones(client, user):
    alias = unique_alias("imp")
    body = _csv(
        "url,alias,max_visits,redirect_type",
        "https://example.com/one,,,",
        f"https://example.com/two,{alias},5,301",
        "ftp://example.com/three,,,",
        "https://example.com/four,,zero,",
        f"https://example.com/five,{alias},,",
        "https://example.com/six,,,",
    )
    response = client.post(
        IMPORT, content=body, headers={**user.headers, "content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert [link["url"] for link in result["created"]] == [
        "https://example.com/one",
        "https://example.com/two",
        "https://example.com/six",
    ]
    assert result["created"][1]["code"] == alias
    assert result["created"][1]["max_visits"] == 5
    assert result["created"][1]["redirect_type"] == 301
    assert [(e["line"], e["field"]) for e in result["errors"]] == [
        (4, "url"),
        (5, "max_visits"),
        (6, "alias"),
    ]
    for link in result["created"]:
        assert follow(client, link["code"]).headers["location"] == link["url"]
    mine = client.get(LINKS, params={"page_size": 100}, headers=user.headers).json()
    assert mine["total"] == 3


def test_import_as_a_multipart_file(client, user):
    body = _csv("url", *(f"https://example.com/{uuid.uuid4().hex}" for _ in range(25)))
    response = client.post(
        IMPORT, files={"file": ("links.csv", body, "text/csv")}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    codes = [link["code"] for link in response.json()["created"]]
    assert len(codes) == len(set(codes)) == 25


def test_import_needs_a_url_column_and_sign_in(client, user):
    assert (
        client.post(
            IMPORT, content=_csv("url", "https://a.example/"), headers={"content-type": "text/csv"}
        ).status_code
        == 401
    )
    response = client.post(
        IMPORT,
        content=_csv("link", "https://a.example/"),
        headers={**user.headers, "content-type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "file"
    wrong_type = client.post(IMPORT, json={"url": "https://a.example/"}, headers=user.headers)
    assert wrong_type.status_code == 415
    binary = client.post(
        IMPORT, content=b"url\n\xff\xfe\n", headers={**user.headers, "content-type": "text/csv"}
    )
    assert binary.status_code == 422
    assert binary.json()["field"] == "file"


def test_import_refuses_too_many_rows(client, user):
    body = _csv("url", *(f"https://example.com/{n}" for n in range(1001)))
    response = client.post(
        IMPORT, content=body, headers={**user.headers, "content-type": "text/csv"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "file"
    assert client.get(LINKS, headers=user.headers).json()["total"] == 0
