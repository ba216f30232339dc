"""Public listings are shared between readers and dropped by every process after any write."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import fakeredis
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.blog.listing_cache import ListingCache
from apps.blog.services import BlogService
from tests.apps.blog.test_articles import listed, unique_tag, write


def count_listings(monkeypatch: Any) -> list[int]:
    calls: list[int] = []
    original = BlogService.list_articles

    async def counted(self: BlogService, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(BlogService, "list_articles", counted)
    return calls


def test_a_repeated_public_listing_is_served_from_the_cache(client, user, monkeypatch):
    tag = unique_tag()
    first = write(client, user, tags=[tag])
    calls = count_listings(monkeypatch)
    assert listed(client, tag=tag) == listed(client, tag=tag)
    assert len(calls) == 1
    second = write(client, user, tags=[tag])
    assert [item["id"] for item in listed(client, tag=tag)["items"]] == [second["id"], first["id"]]
    assert len(calls) == 2


def test_edits_and_deletes_show_up_in_the_next_listing(client, user):
    tag = unique_tag()
    article = write(client, user, tags=[tag], title="Before")
    path = f"/blog/articles/{article['id']}"
    assert listed(client, tag=tag)["items"][0]["title"] == "Before"
    client.patch(path, json={"title": "After"}, headers=user.headers)
    assert listed(client, tag=tag)["items"][0]["title"] == "After"
    client.put(path, json={"title": "Replaced", "tags": [tag]}, headers=user.headers)
    assert listed(client, tag=tag)["total"] == 0, "PUT without status made it a draft"
    client.patch(path, json={"status": "published"}, headers=user.headers)
    assert listed(client, tag=tag)["total"] == 1
    client.delete(path, headers=user.headers)
    assert listed(client, tag=tag)["total"] == 0


def test_drafts_are_never_served_from_the_shared_cache(client, user, monkeypatch):
    write(client, user, status="draft", tags=[unique_tag()])
    calls = count_listings(monkeypatch)
    listed(client, user.headers, status="draft")
    listed(client, user.headers, status="draft")
    assert len(calls) == 2


def test_a_write_in_one_process_invalidates_the_others():
    server = fakeredis.FakeServer()
    here, there = ListingCache(), ListingCache()

    async def run() -> tuple[Any, Any]:
        redis = fakeredis.FakeAsyncRedis(server=server, decode_responses=True)
        key = await here.key(redis, "articles", 1)
        here.put(key, "page")
        assert here.get(await here.key(redis, "articles", 1)) == "page"
        await there.invalidate(redis)
        return here.get(await here.key(redis, "articles", 1)), here.get(key)

    after_write, old_generation = asyncio.run(run())
    assert after_write is None
    assert old_generation == "page", "the old entry is unreachable, not needed to be deleted"


def test_entries_expire_and_the_least_recently_used_go_first(monkeypatch):
    cache = ListingCache(max_entries=2, ttl_seconds=10)
    clock = [1000.0]
    monkeypatch.setattr("apps.blog.listing_cache.time.monotonic", lambda: clock[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    clock[0] += 11
    assert cache.get("a") is None
    assert len(cache) == 1


class UnreachableRedis:
    async def get(self, key: str) -> str:
        raise RedisConnectionError("down")

    async def incr(self, key: str) -> int:
        raise RedisConnectionError("down")


def test_an_unreachable_redis_bypasses_the_cache():
    cache = ListingCache()
    redis: Any = UnreachableRedis()

    async def run() -> Any:
        key = await cache.key(redis, "articles", uuid.uuid4())
        cache.put(key, "page")
        await cache.invalidate(redis)
        return key

    assert asyncio.run(run()) is None
    assert len(cache) == 0
