"""The catch-all redirect at the root: lookups, expiry, max_visits, reserved paths."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from tests.apps.shortener.conftest import LINKS, create, follow, unique_alias


def test_code_redirects_to_its_url(client):
    link = create(client, url="https://example.com/target?x=1#frag")
    response = follow(client, link["code"])
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/target?x=1#frag"
    assert response.content == b""


def test_unknown_code_is_404_problem(client):
    response = follow(client, "Zz" + uuid.uuid4().hex[:5])
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "code"


def test_unknown_code_is_remembered_until_the_link_is_created(client):
    alias = unique_alias("late")
    assert follow(client, alias).status_code == 404  # cached as unknown now
    create(client, alias=alias, url="https://example.com/late")
    assert follow(client, alias).headers["location"] == "https://example.com/late"


def test_paths_that_are_not_codes_are_404(client):
    for path in ("/a", "/has.dot", "/" + "x" * 40, "/%00abc", "/a%20b"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 404, path


def test_kernel_and_app_paths_win_over_codes(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/shortener/links").status_code == 401
    assert client.get("/todo", follow_redirects=False).status_code == 404


def test_expired_link_is_404(client):
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    link = create(client, expires_at=soon)
    assert follow(client, link["code"]).status_code == 302
    time.sleep(1.6)
    response = follow(client, link["code"])
    assert response.status_code == 404


def test_max_visits_then_410(client):
    link = create(client, max_visits=3)
    statuses = [follow(client, link["code"]).status_code for _ in range(5)]
    assert statuses == [302, 302, 302, 410, 410]
    gone = follow(client, link["code"])
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["status"] == 410


def test_raising_max_visits_reopens_the_link(client, user):
    link = create(client, user.headers, max_visits=1)
    assert follow(client, link["code"]).status_code == 302
    assert follow(client, link["code"]).status_code == 410
    response = client.patch(f"{LINKS}/{link['code']}", json={"max_visits": 2}, headers=user.headers)
    assert response.status_code == 200
    assert follow(client, link["code"]).status_code == 302
    assert follow(client, link["code"]).status_code == 410
    cleared = client.patch(
        f"{LINKS}/{link['code']}", json={"max_visits": None}, headers=user.headers
    )
    assert cleared.json()["max_visits"] is None
    assert follow(client, link["code"]).status_code == 302


def test_limited_links_are_never_cached_by_browsers(client):
    limited = create(client, max_visits=10)
    assert follow(client, limited["code"]).headers["cache-control"] == "no-store"
    plain = create(client)
    assert follow(client, plain["code"]).headers["cache-control"] == "private, max-age=90"


def test_redirect_needs_no_token_and_ignores_a_bad_one(client):
    link = create(client)
    response = client.get(
        f"/{link['code']}", headers={"Authorization": "Bearer nonsense"}, follow_redirects=False
    )
    assert response.status_code == 302


def test_redirects_are_counted_in_prometheus(client):
    def counted(outcome: str) -> float:
        text = client.get("/metrics").text
        prefix = f'stackyard_shortener_redirects_total{{outcome="{outcome}"}} '
        lines = [line for line in text.splitlines() if line.startswith(prefix)]
        return float(lines[0].split()[-1]) if lines else 0.0

    link = create(client)
    before, missing = counted("redirect"), counted("not_found")
    follow(client, link["code"])
    follow(client, link["code"])
    follow(client, "Nx" + uuid.uuid4().hex[:5])
    assert counted("redirect") == before + 2
    assert counted("not_found") == missing + 1
