"""Shortener domain logic: creating links (codes or aliases), owners' changes, stats, imports.

No HTTP objects here; the caller owns the session. Mutations return the codes whose cached
copies must be dropped once the transaction commits.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit
from uuid import UUID

import msgspec
from msgspec import UNSET
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel import db
from apps.kernel.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from apps.kernel.fields import ensure_storable
from apps.kernel.identity import CurrentUser
from apps.shortener.codes import SHORTENER_WORDS, CodePermutation, is_reserved
from apps.shortener.models import CodeSequence, Link, VisitCount
from apps.shortener.schemas import (
    MAX_URL_LENGTH,
    DayCount,
    LinkCreate,
    LinkStats,
    LinkUpdate,
    RowError,
    ValueCount,
)
from apps.shortener.settings import ShortenerSettings

SEQUENCE_NAME = "links"
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~"
TOP_VALUES = 20


class Gone(DomainError):
    status, title, slug = 410, "Gone", "gone"


def reserved_words() -> frozenset[str]:
    """Words no code or alias may be: the gateway's first path segments and our own."""
    from apps.gateway import reserved_segments

    return frozenset(word.lower() for word in reserved_segments()) | SHORTENER_WORDS


@lru_cache(maxsize=4)
def permutation_for(key: bytes) -> CodePermutation:
    return CodePermutation(key)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _host_port(scheme: str, host: str, port: int | None) -> tuple[str, int]:
    return host, port if port is not None else (443 if scheme == "https" else 80)


def normalized_host(host: str) -> str:
    """A host name in the form two spellings of it share (lower case, IDNA, no final dot)."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Invalid("url", f"{host!r} is not a valid host name") from None


def origin_of(url: str) -> tuple[str, int] | None:
    """(host, port) of an http(s) URL, None for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return _host_port(parts.scheme, normalized_host(parts.hostname), port)


def check_target(url: str, own_origins: Collection[tuple[str, int]]) -> str:
    """The target URL if it is one we redirect to; else Invalid naming `url`.

    Only http(s) with a host, at most 2,048 characters, no spaces or control characters,
    no credentials (`https://bank.com@evil.example` tricks), and not this shortener itself
    (a link to a short link would loop or hide where it goes).
    """
    if len(url) > MAX_URL_LENGTH:
        raise Invalid("url", f"URLs are at most {MAX_URL_LENGTH} characters")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise Invalid("url", "URLs may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Invalid("url", f"not a valid URL ({exc})") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise Invalid("url", "only http and https URLs can be shortened")
    if not parts.hostname:
        raise Invalid("url", "the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise Invalid("url", "URLs with a user name or password cannot be shortened")
    host = normalized_host(parts.hostname)
    if _host_port(parts.scheme.lower(), host, port) in own_origins:
        raise Invalid("url", "the URL points back at this shortener")
    uri = ascii_uri(url, parts.hostname, host)
    if len(uri) > MAX_URL_LENGTH:
        raise Invalid("url", f"the URL is longer than {MAX_URL_LENGTH} characters once encoded")
    return uri


def ascii_uri(url: str, host: str, ascii_host: str) -> str:
    """The URL as it can go in a Location header: IDNA host, other non-ASCII percent-encoded."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    netloc = parts.netloc.replace(host, ascii_host, 1) if host != ascii_host else parts.netloc
    if not netloc.isascii():
        netloc = quote(netloc, safe=_URI_SAFE)
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            quote(parts.path, safe=_URI_SAFE),
            quote(parts.query, safe=_URI_SAFE),
            quote(parts.fragment, safe=_URI_SAFE),
        )
    )


def check_alias(alias: str, reserved: Collection[str]) -> str:
    if is_reserved(alias, reserved):
        raise Invalid("alias", f"{alias!r} is a reserved word; choose another alias")
    return alias


def check_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    ensure_storable(expires_at, "expires_at")
    if expires_at is None:
        return None
    if expires_at <= now:
        raise Invalid("expires_at", "expires_at must be in the future")
    return expires_at.astimezone(UTC)


async def allocate_numbers(count: int) -> int:
    """Reserve `count` sequence numbers; returns the first.

    In its own short transaction, so concurrent creators wait on the counter row only for
    an instant; numbers of a request that later fails are simply never used.
    """
    async with db.session() as session:
        for _ in range(3):
            end = await session.scalar(
                update(CodeSequence)
                .where(CodeSequence.name == SEQUENCE_NAME)
                .values(value=CodeSequence.value + count)
                .returning(CodeSequence.value)
            )
            if end is not None:
                return int(end) - count
            try:
                async with session.begin_nested():
                    session.add(CodeSequence(name=SEQUENCE_NAME, value=count))
                return 0
            except IntegrityError:
                continue  # another process created the row first: increment it
    raise RuntimeError("the code sequence row could not be created")


class LinkService:
    """Links and their stats; the session is owned by the caller."""

    def __init__(self, session: AsyncSession, settings: ShortenerSettings) -> None:
        self.session = session
        self.settings = settings
        self.permutation = permutation_for(settings.code_key)

    def short_url(self, code: str) -> str:
        return f"{self.settings.base_url}/{code}"

    def own_origins(self, request_origin: tuple[str, int] | None) -> set[tuple[str, int]]:
        origins = {origin_of(self.settings.base_url)}
        from apps.kernel.settings import get_settings

        origins.add(origin_of(get_settings().public_url))
        origins.add(request_origin)
        return {origin for origin in origins if origin is not None}

    async def _taken(self, codes: Iterable[str]) -> set[str]:
        wanted = list(codes)
        if not wanted:
            return set()
        return set(await self.session.scalars(select(Link.code).where(Link.code.in_(wanted))))

    async def fresh_codes(self, count: int) -> list[str]:
        """`count` unused generated codes (skipping reserved words and taken aliases)."""
        reserved = reserved_words()
        codes: list[str] = []
        while len(codes) < count:
            need = count - len(codes)
            start = await allocate_numbers(need)
            batch = self.permutation.codes(start, need)
            taken = await self._taken(batch)
            codes += [c for c in batch if c not in taken and not is_reserved(c, reserved)]
        return codes

    async def create(
        self,
        data: LinkCreate,
        owner: CurrentUser | None,
        request_origin: tuple[str, int] | None = None,
        *,
        code: str | None = None,
    ) -> Link:
        """A new link; its code is the alias, or `code` (pre-allocated), or a fresh one."""
        url = check_target(data.url, self.own_origins(request_origin))
        expires_at = check_expiry(data.expires_at, utcnow())
        if data.alias is not None:
            check_alias(data.alias, reserved_words())
            if await self._taken([data.alias]):
                raise Conflict(f"The alias {data.alias!r} is taken", field="alias")
            chosen = data.alias
        else:
            chosen = code or (await self.fresh_codes(1))[0]
        link = Link(
            code=chosen,
            url=url,
            owner_id=owner.id if owner else None,
            redirect_type=data.redirect_type,
            expires_at=expires_at,
            max_visits=data.max_visits,
            visits=0,
            is_alias=data.alias is not None,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(link)
        except IntegrityError:
            field_name = "alias" if data.alias is not None else "code"
            raise Conflict(f"The code {chosen!r} was taken just now", field=field_name) from None
        return link

    async def get(self, code: str) -> Link:
        link = await self.session.scalar(select(Link).where(Link.code == code))
        if link is None:
            raise NotFound(f"No link {code!r}", field="code")
        return link

    async def readable(self, code: str, user: CurrentUser | None) -> Link:
        """A link the user may see: anonymous links are public, owned ones their owner's."""
        link = await self.get(code)
        if link.owner_id is not None and (
            user is None or (user.id != link.owner_id and not user.is_admin)
        ):
            raise Forbidden("Only the owner of this link or an admin may see it", field="code")
        return link

    async def changeable(self, code: str, user: CurrentUser) -> Link:
        link = await self.get(code)
        if link.owner_id is None:
            raise Forbidden("Anonymous links cannot be changed or deleted", field="code")
        if user.id != link.owner_id and not user.is_admin:
            raise Forbidden("Only the owner of this link or an admin may change it", field="code")
        return link

    async def list_mine(
        self, owner_id: UUID, *, page: int, page_size: int
    ) -> tuple[list[Link], int]:
        query = select(Link).where(Link.owner_id == owner_id)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(Link.created_at.desc(), Link.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return list(rows), int(total or 0)

    async def update(
        self,
        code: str,
        user: CurrentUser,
        changes: LinkUpdate,
        request_origin: tuple[str, int] | None = None,
    ) -> Link:
        link = await self.changeable(code, user)
        if changes.url is not UNSET:
            link.url = check_target(changes.url, self.own_origins(request_origin))
        if changes.expires_at is not UNSET:
            link.expires_at = check_expiry(changes.expires_at, utcnow())
        if changes.max_visits is not UNSET:
            link.max_visits = changes.max_visits
        if changes.redirect_type is not UNSET:
            link.redirect_type = changes.redirect_type
        link.updated_at = utcnow()
        await self.session.flush()
        return link

    async def delete(self, code: str, user: CurrentUser) -> Link:
        link = await self.changeable(code, user)
        await self.session.delete(link)
        await self.session.flush()
        return link

    async def stats(self, link: Link, *, days: int, today: date | None = None) -> LinkStats:
        """Visits from the counters: a few indexed rows, however many visits there were."""
        since = ((today or utcnow().date()) - timedelta(days=days - 1)).isoformat()
        rows = await self.session.execute(
            select(VisitCount.dimension, VisitCount.value, VisitCount.count).where(
                VisitCount.link_id == link.id
            )
        )
        by_dimension: dict[str, list[tuple[str, int]]] = {}
        for dimension, value, count in rows:
            by_dimension.setdefault(dimension, []).append((value, int(count)))

        def top(dimension: str) -> list[ValueCount]:
            ranked = sorted(by_dimension.get(dimension, []), key=lambda item: (-item[1], item[0]))
            return [ValueCount(value=value, visits=count) for value, count in ranked[:TOP_VALUES]]

        by_day = sorted(
            (value, count) for value, count in by_dimension.get("day", []) if value >= since
        )
        return LinkStats(
            code=link.code,
            total_visits=link.visits,
            by_day=[DayCount(day=date.fromisoformat(day), visits=count) for day, count in by_day],
            referrers=top("referrer"),
            browsers=top("browser"),
            countries=top("country"),
        )


# ---- CSV import ----------------------------------------------------------------------------

CSV_COLUMNS = ("url", "alias", "expires_at", "max_visits", "redirect_type")
_row_decoder = msgspec.json.Decoder(LinkCreate)


@dataclass
class ParsedRow:
    line: int
    data: LinkCreate


def parse_csv(text: str, max_rows: int) -> tuple[list[ParsedRow], list[RowError]]:
    """Rows of a CSV with a header naming `url` and any of the optional columns.

    A bad row is reported with its line and field, and the others still import.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if "url" not in header:
        raise Invalid("file", "the CSV needs a header row with a `url` column")
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise Invalid("file", f"unknown CSV columns: {', '.join(unknown)}")
    reader.fieldnames = header
    rows: list[ParsedRow] = []
    errors: list[RowError] = []
    try:
        for record in reader:
            line = reader.line_num
            if len(rows) + len(errors) >= max_rows:
                raise Invalid("file", f"an import holds at most {max_rows} rows")
            values = {k: (v or "").strip() for k, v in record.items() if k is not None}
            if not any(values.values()):
                continue
            parsed = _row(values, line)
            if isinstance(parsed, RowError):
                errors.append(parsed)
            else:
                rows.append(parsed)
    except csv.Error as exc:
        raise Invalid("file", f"the CSV cannot be read ({exc})") from None
    return rows, errors


def _row(values: dict[str, str], line: int) -> ParsedRow | RowError:
    body: dict[str, object] = {"url": values.get("url", "")}
    if values.get("alias"):
        body["alias"] = values["alias"]
    if values.get("expires_at"):
        body["expires_at"] = values["expires_at"]
    for name in ("max_visits", "redirect_type"):
        if values.get(name):
            try:
                body[name] = int(values[name])
            except ValueError:
                return RowError(line=line, field=name, detail=f"{name} must be a whole number")
    try:
        return ParsedRow(line=line, data=_row_decoder.decode(msgspec.json.encode(body)))
    except msgspec.ValidationError as exc:
        message = str(exc)
        name = message.rsplit("$.", 1)[-1].rstrip("`") if "$." in message else "url"
        return RowError(line=line, field=name, detail=message.split(" - at ")[0])


async def import_rows(
    service: LinkService,
    rows: list[ParsedRow],
    owner: CurrentUser,
    request_origin: tuple[str, int] | None,
) -> tuple[list[Link], list[RowError]]:
    """Create a link per row; rows breaking a rule become errors, the rest are created."""
    generated = iter(await service.fresh_codes(sum(1 for row in rows if row.data.alias is None)))
    created: list[Link] = []
    errors: list[RowError] = []
    aliases: set[str] = set()
    for row in rows:
        alias = row.data.alias
        if alias is not None and alias in aliases:
            errors.append(RowError(line=row.line, field="alias", detail="alias repeated in file"))
            continue
        try:
            code = None if alias is not None else next(generated)
            created.append(await service.create(row.data, owner, request_origin, code=code))
        except (Invalid, Conflict) as exc:
            errors.append(RowError(line=row.line, field=exc.field or "url", detail=exc.detail))
            continue
        if alias is not None:
            aliases.add(alias)
    await service.session.flush()
    return created, errors
