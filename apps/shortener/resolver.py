"""Finding the link of a code fast: this process's memory, then Redis, then the database.

A redirect of a cached code touches neither Redis nor the database. Each process keeps a
link (or the fact that a code is unknown) for `local_cache_ttl` seconds; Redis keeps it for
`cache_ttl` (unknown codes for `negative_cache_ttl`). Changes delete the Redis entry and this
process's copy after they commit, so other processes see them within `local_cache_ttl`.
Expiry is checked on every redirect against the cached time. Links with `max_visits` are
the exception to "no Redis": each of their redirects claims one visit atomically in Redis,
which is what makes the limit exact across processes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from redis.asyncio import Redis
from sqlalchemy import select

from apps.kernel import db
from apps.shortener.models import Link
from apps.shortener.settings import ShortenerSettings

CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
"""Every code and alias has this shape: anything else is unknown without a lookup."""

UNKNOWN = "-"

# Claim one visit of a limited link: start from the visits the database knows when Redis has
# no counter yet (after a restart), refuse once the limit is reached.
_CLAIM_VISIT = """
local used = redis.call('GET', KEYS[1])
if not used then
  used = tonumber(ARGV[1])
  redis.call('SET', KEYS[1], used)
else
  used = tonumber(used)
end
if used >= tonumber(ARGV[2]) then return -1 end
return redis.call('INCR', KEYS[1])
"""


class CachedLink(msgspec.Struct, frozen=True, array_like=True):
    """What a redirect needs to know about a link."""

    link_id: str
    url: str
    redirect_type: int
    expires_at: float | None
    """Epoch seconds after which the link is gone, or None."""
    max_visits: int | None
    visits: int
    """Visits in the database when this copy was read (the start of the Redis claim count)."""

    @classmethod
    def of(cls, link: Link) -> CachedLink:
        return cls(
            link_id=str(link.id),
            url=link.url,
            redirect_type=link.redirect_type,
            expires_at=link.expires_at.timestamp() if link.expires_at else None,
            max_visits=link.max_visits,
            visits=link.visits,
        )


def cache_key(code: str) -> str:
    return f"shortener:link:{code}"


def used_key(link_id: str) -> str:
    return f"shortener:used:{link_id}"


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(CachedLink).decode


@dataclass
class LinkResolver:
    """The read-through cache of one application instance."""

    settings: ShortenerSettings

    def __post_init__(self) -> None:
        self._local: dict[str, tuple[float, CachedLink | None]] = {}

    async def resolve(self, redis: Callable[[], Redis], code: str) -> CachedLink | None:
        """The link of `code`, or None when no link has that code.

        `redis` gives the client, asked for only on a miss of this process's cache."""
        entry = self._local.get(code)
        now = time.monotonic()
        if entry is not None and entry[0] > now:
            return entry[1]
        if CODE_SHAPE.match(code) is None:
            return None
        link = await self._shared(redis(), code)
        self._remember(code, link, now)
        return link

    def _remember(self, code: str, link: CachedLink | None, now: float) -> None:
        size = self.settings.local_cache_size
        if size == 0 or self.settings.local_cache_ttl == 0:
            return
        if len(self._local) >= size:
            # Forget the oldest tenth at once rather than one entry per miss.
            for stale in list(self._local)[: max(1, size // 10)]:
                del self._local[stale]
        self._local[code] = (now + self.settings.local_cache_ttl, link)

    async def _shared(self, redis: Redis, code: str) -> CachedLink | None:
        cached = await redis.get(cache_key(code))
        if cached == UNKNOWN:
            return None
        if cached:
            try:
                return _decode(cached)
            except msgspec.DecodeError:
                pass
        async with db.session() as session:
            row = await session.scalar(select(Link).where(Link.code == code))
        link = CachedLink.of(row) if row is not None else None
        if link is None:
            await redis.set(cache_key(code), UNKNOWN, ex=self.settings.negative_cache_ttl)
        else:
            await redis.set(cache_key(code), _encode(link), ex=self.settings.cache_ttl)
        return link

    async def forget(self, redis: Redis, codes: list[str]) -> None:
        """Drop the cached copies of `codes` (after the change that made them stale commits)."""
        for code in codes:
            self._local.pop(code, None)
        if codes:
            await redis.delete(*(cache_key(code) for code in codes))


async def claim_visit(redis: Redis, link: CachedLink) -> bool:
    """Count one visit of a limited link; False when its `max_visits` are used up."""
    if link.max_visits is None:
        return True
    result = await redis.eval(  # type: ignore[misc]
        _CLAIM_VISIT, 1, used_key(link.link_id), link.visits, link.max_visits
    )
    return int(result) >= 0
