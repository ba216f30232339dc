"""`stackyard blog seed` fills the database that the API then serves."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from apps.cli import app


def test_seed_inserts_published_articles_with_tags(client):
    before = client.get("/blog/articles", params={"tag": "seed-1"}).json()["total"]
    result = CliRunner().invoke(
        app, ["blog", "seed", "--articles", "25", "--batch", "10", "--tags", "3"]
    )
    assert result.exit_code == 0, result.output
    author_id = re.search(r"by author\s+([0-9a-f-]{36})", result.output).group(1)
    page = client.get("/blog/articles", params={"author_id": author_id, "page_size": 100}).json()
    assert page["total"] == 25
    assert len({item["slug"] for item in page["items"]}) == 25
    assert all(item["status"] == "published" and len(item["tags"]) == 3 for item in page["items"])
    # the listing cache was invalidated: the tag listing counts the new articles at once
    after = client.get("/blog/articles", params={"tag": "seed-1"}).json()["total"]
    assert after == before + 25
