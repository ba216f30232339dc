"""The shortener API at /shortener/links, and the catch-all redirect `GET /{code}` at the root.

The redirect handler also owns the per-application runtime (the read-through cache and the
visit tally): it attaches it when the gateway registers it, starts its pusher at startup and
drains it at shutdown, so no counted visit is lost on a clean stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from typing import TYPE_CHECKING, Any

import segno
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import Provide
from litestar.middleware.authentication import AbstractAuthenticationMiddleware
from litestar.params import Parameter
from litestar.response.base import ASGIResponse
from litestar.status_codes import HTTP_204_NO_CONTENT
from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel import db
from apps.kernel.cache import get_redis
from apps.kernel.clients import client_ip
from apps.kernel.errors import DomainError, Invalid, NotFound, TooManyRequests
from apps.kernel.identity import CurrentUser, optional_user, requires_user, signed_in_user
from apps.kernel.pagination import MAX_PAGE_SIZE, Page, make_page
from apps.kernel.ratelimit import RateLimiter
from apps.kernel.settings import get_settings
from apps.kernel.telemetry import telemetry_middleware
from apps.shortener.models import Link
from apps.shortener.resolver import LinkResolver, claim_visit, used_key
from apps.shortener.schemas import ImportResult, LinkCreate, LinkRead, LinkStats, LinkUpdate
from apps.shortener.services import Gone, LinkService, import_rows, origin_of, parse_csv
from apps.shortener.settings import ShortenerSettings, get_shortener_settings
from apps.shortener.visits import VisitTally, flush_buffer, push_tally

if TYPE_CHECKING:
    from litestar import Litestar

logger = logging.getLogger("stackyard.shortener")

RUNTIME_KEY = "shortener_runtime"
IMPORT_MAX_BYTES = 4 * 1024 * 1024
PERMANENT_MAX_AGE = 90
"""Seconds a browser may reuse a redirect (like bit.ly): edits and stats stay meaningful."""


class UnsupportedMediaType(DomainError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


# ---- the per-application runtime -----------------------------------------------------------


class RedirectRuntime:
    """The cache and visit tally of one application, and the task that pushes the tally."""

    def __init__(self, settings: ShortenerSettings) -> None:
        self.settings = settings
        self.resolver = LinkResolver(settings)
        self.tally = VisitTally()
        self._task: asyncio.Task[None] | None = None

    @property
    def flushes_itself(self) -> bool:
        """On the embedded defaults Redis lives in this process: beat cannot see the buffer."""
        return get_settings().embedded

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="shortener-visits")

    async def _run(self) -> None:
        interval = self.settings.push_interval_ms / 1000
        last_flush = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            try:
                await push_tally(get_redis(), self.tally)
                if self.flushes_itself and time.monotonic() - last_flush >= (
                    self.settings.flush_interval
                ):
                    last_flush = time.monotonic()
                    await flush_buffer(get_redis(), db.session)
            except Exception:
                logger.warning("counting visits failed; will retry", exc_info=True)

    async def stop(self) -> None:
        """Push (and on the embedded defaults flush) every visit counted so far."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await push_tally(get_redis(), self.tally)
            if self.flushes_itself:
                await flush_buffer(get_redis(), db.session)
        except Exception:
            logger.exception("visits counted before shutdown could not be saved")


def runtime_of(request: Request[Any, Any, Any]) -> RedirectRuntime | None:
    return request.app.state.get(RUNTIME_KEY)


async def forget_codes(request: Request[Any, Any, Any], codes: list[str]) -> None:
    runtime = runtime_of(request)
    if runtime is not None:
        await runtime.resolver.forget(get_redis(), codes)
    else:
        await LinkResolver(get_shortener_settings()).forget(get_redis(), codes)


REDIRECTS = Counter(
    "stackyard_shortener_redirects",
    "Short-link lookups at the root, by outcome (redirect, not_found, gone)",
    ["outcome"],
)
REDIRECT_SECONDS = Histogram(
    "stackyard_shortener_redirect_seconds",
    "Time to answer a short-link lookup (handler only)",
    buckets=[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
)
_REDIRECTED = REDIRECTS.labels("redirect")
_NOT_FOUND = REDIRECTS.labels("not_found")
_GONE = REDIRECTS.labels("gone")


def _is_generic_per_request_middleware(middleware: Any) -> bool:
    """The kernel's telemetry middleware (access log and request metrics), and
    authentication (the redirect is public and opts out of it anyway)."""
    wrapped = getattr(middleware, "middleware", None)
    return middleware is telemetry_middleware or (
        isinstance(wrapped, type) and issubclass(wrapped, AbstractAuthenticationMiddleware)
    )


class redirect_route(get):
    """`@get` for the redirect hot path.

    Its registration gives the application its redirect runtime (cache, tally, pusher). It
    also leaves out the kernel's telemetry middleware (access log and request metrics),
    which cost more than the redirect itself (benchmarks/redirect.py); the redirect counts
    itself in `stackyard_shortener_redirects_total` and `..._redirect_seconds` instead.
    """

    def resolve_middleware(self) -> list[Any]:
        return [
            m for m in super().resolve_middleware() if not _is_generic_per_request_middleware(m)
        ]

    def on_registration(self, app: Litestar) -> None:
        super().on_registration(app)
        if RUNTIME_KEY not in app.state:
            runtime = RedirectRuntime(get_shortener_settings())
            app.state[RUNTIME_KEY] = runtime
            app.on_startup.append(runtime.start)
            # First in line, so it runs before the gateway closes Redis and the database.
            app.on_shutdown.insert(0, runtime.stop)


def _cache_control(link_expires_at: float | None, limited: bool, now: float) -> str:
    if limited:
        return "no-store"
    if link_expires_at is None:
        return _PRIVATE_90
    max_age = max(0, min(PERMANENT_MAX_AGE, int(link_expires_at - now)))
    return f"private, max-age={max_age}"


_PRIVATE_90 = f"private, max-age={PERMANENT_MAX_AGE}"


def _visit_headers(scope: Any) -> tuple[str | None, str | None]:
    """Referer and User-Agent straight from the ASGI scope (no header object built)."""
    referrer = agent = None
    for name, value in scope["headers"]:
        if name == b"referer":
            referrer = value.decode("latin-1")
        elif name == b"user-agent":
            agent = value.decode("latin-1")
    return referrer, agent


@redirect_route(
    "/{code:str}",
    operation_id="FollowShortLink",
    tags=["shortener"],
    opt={"exclude_from_auth": True},
    summary="Redirect a short code to its URL",
)
async def follow_link(request: Request[Any, Any, Any], code: str) -> ASGIResponse:
    """Redirect to the link's URL: 404 for unknown or expired codes, 410 once max_visits
    are used up. Paths any other route claims never get here."""
    started = time.perf_counter()
    runtime: RedirectRuntime = request.app.state[RUNTIME_KEY]
    link = await runtime.resolver.resolve(get_redis, code)
    now = time.time()
    if link is None or (link.expires_at is not None and now >= link.expires_at):
        _NOT_FOUND.inc()
        raise NotFound(f"No link {code!r}", field="code")
    limited = link.max_visits is not None
    if limited and not await claim_visit(get_redis(), link):
        _GONE.inc()
        raise Gone(f"The link {code!r} has reached its maximum number of visits", field="code")
    runtime.tally.record(link.link_id, *_visit_headers(request.scope))
    response = ASGIResponse(
        status_code=link.redirect_type,
        media_type="text/plain",
        headers=(
            ("location", link.url),
            ("cache-control", _cache_control(link.expires_at, limited, now)),
        ),
    )
    _REDIRECTED.inc()
    REDIRECT_SECONDS.observe(time.perf_counter() - started)
    return response


# ---- the management API --------------------------------------------------------------------


async def enforce_limit(limiter: RateLimiter, key: str, what: str) -> None:
    decision = await limiter.hit(key)
    if not decision.allowed:
        raise TooManyRequests(
            f"Too many {what}; try again in {decision.retry_after} s",
            retry_after=decision.retry_after,
        )


def request_origin(request: Request[Any, Any, Any]) -> tuple[str, int] | None:
    try:
        return origin_of(str(request.base_url))
    except Invalid:
        return None


async def provide_links(db_session: AsyncSession) -> LinkService:
    return LinkService(db_session, get_shortener_settings())


def link_read(link: Link, service: LinkService) -> LinkRead:
    return LinkRead(
        code=link.code,
        short_url=service.short_url(link.code),
        url=link.url,
        redirect_type=link.redirect_type,
        expires_at=link.expires_at,
        max_visits=link.max_visits,
        visits=link.visits,
        anonymous=link.owner_id is None,
        created_at=link.created_at,
        updated_at=link.updated_at,
    )


async def _read_csv(request: Request[Any, Any, Any]) -> str:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not hasattr(upload, "read"):
            raise Invalid("file", "attach the CSV as the form field `file`")
        raw = await upload.read()
    elif content_type.startswith(("text/csv", "text/plain", "application/csv")):
        raw = await request.body()
    else:
        raise UnsupportedMediaType(
            "Send the CSV as text/csv, or as the multipart/form-data field `file`", field="file"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("file", "the CSV must be UTF-8 text") from None


class LinkController(Controller):
    """Short links (brief #6): anyone may shorten a URL; owners list, edit and delete theirs."""

    path = "/links"
    dependencies = {"links": Provide(provide_links)}

    @post("/", operation_id="CreateShortLink", status_code=201)
    async def create_link(
        self, request: Request[Any, Any, Any], data: LinkCreate, links: LinkService
    ) -> LinkRead:
        """Shorten a URL, under a custom alias or a fresh 7-character code.

        Anonymous creation is allowed but rate limited per client address."""
        settings = links.settings
        user = optional_user(request)
        redis = get_redis()
        if user is None:
            limiter = RateLimiter(
                redis,
                "shortener:create:anonymous",
                limit=settings.anonymous_create_limit,
                window=settings.create_window_seconds,
            )
            await enforce_limit(limiter, client_ip(request), "short links from this address")
        else:
            limiter = RateLimiter(
                redis,
                "shortener:create:user",
                limit=settings.user_create_limit,
                window=settings.create_window_seconds,
            )
            await enforce_limit(limiter, str(user.id), "short links")
        link = await links.create(data, user, request_origin(request))
        await links.session.commit()
        await forget_codes(request, [link.code])
        return link_read(link, links)

    @post(
        "/import",
        operation_id="ImportShortLinks",
        status_code=200,
        guards=[requires_user],
        request_max_body_size=IMPORT_MAX_BYTES,
    )
    async def import_links(
        self, request: Request[Any, Any, Any], links: LinkService
    ) -> ImportResult:
        """Shorten many URLs from a CSV (header `url[,alias,expires_at,max_visits,redirect_type]`),
        sent as text/csv or as the multipart field `file`. Good rows are created; bad ones are
        listed with their line number and field."""
        user = signed_in_user(request)
        settings = links.settings
        limiter = RateLimiter(
            get_redis(),
            "shortener:import",
            limit=settings.import_limit,
            window=settings.create_window_seconds,
        )
        await enforce_limit(limiter, str(user.id), "imports")
        rows, errors = parse_csv(await _read_csv(request), settings.import_max_rows)
        created, refused = await import_rows(links, rows, user, request_origin(request))
        await links.session.commit()
        await forget_codes(request, [link.code for link in created])
        errors = sorted([*errors, *refused], key=lambda error: error.line)
        return ImportResult(created=[link_read(link, links) for link in created], errors=errors)

    @get("/", operation_id="ListMyShortLinks", guards=[requires_user])
    async def list_links(
        self,
        request: Request[Any, Any, Any],
        links: LinkService,
        page: int = Parameter(default=1, ge=1, le=1_000_000),
        page_size: int = Parameter(default=20, ge=1, le=MAX_PAGE_SIZE),
    ) -> Page[LinkRead]:
        """My links, newest first."""
        user: CurrentUser = signed_in_user(request)
        rows, total = await links.list_mine(user.id, page=page, page_size=page_size)
        items = [link_read(link, links) for link in rows]
        return make_page(request, items, total=total, page=page, page_size=page_size)

    @get("/{code:str}", operation_id="GetShortLink")
    async def get_link(
        self, request: Request[Any, Any, Any], links: LinkService, code: str
    ) -> LinkRead:
        """One link: anonymous links are public, owned ones only their owner's (or an admin's)."""
        return link_read(await links.readable(code, optional_user(request)), links)

    @patch("/{code:str}", operation_id="UpdateShortLink", guards=[requires_user])
    async def update_link(
        self, request: Request[Any, Any, Any], links: LinkService, code: str, data: LinkUpdate
    ) -> LinkRead:
        """Change the target URL (or expiry, max_visits, redirect type) of one of my links."""
        link = await links.update(code, signed_in_user(request), data, request_origin(request))
        await links.session.commit()
        await forget_codes(request, [link.code])
        return link_read(link, links)

    @delete(
        "/{code:str}",
        operation_id="DeleteShortLink",
        guards=[requires_user],
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_link(
        self, request: Request[Any, Any, Any], links: LinkService, code: str
    ) -> None:
        """Delete one of my links; its code then answers 404."""
        link = await links.delete(code, signed_in_user(request))
        await links.session.commit()
        await forget_codes(request, [link.code])
        await get_redis().delete(used_key(str(link.id)))

    @get("/{code:str}/stats", operation_id="ShortLinkStats")
    async def link_stats(
        self,
        request: Request[Any, Any, Any],
        links: LinkService,
        code: str,
        days: int = Parameter(default=30, ge=1, le=3660, description="Days of per-day counts"),
    ) -> LinkStats:
        """Visits per day, referrer host, browser and country, read from counters."""
        link = await links.readable(code, optional_user(request))
        return await links.stats(link, days=days)

    @get("/{code:str}/qr", operation_id="ShortLinkQrCode", media_type="image/png")
    async def link_qr(
        self,
        links: LinkService,
        code: str,
        scale: int = Parameter(default=8, ge=1, le=40, description="Pixels per QR module"),
    ) -> Response[bytes]:
        """A PNG QR code of the short URL."""
        link = await links.get(code)
        buffer = io.BytesIO()
        segno.make(links.short_url(link.code), error="m").save(
            buffer, kind="png", scale=scale, border=4
        )
        return Response(
            buffer.getvalue(),
            media_type="image/png",
            headers={"Cache-Control": "public, max-age=86400"},
        )
