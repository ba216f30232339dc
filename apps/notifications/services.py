"""Notification domain logic: sending, the inbox (read/unread), preferences, holds and digests.

No HTTP objects here; the caller owns the session and commits. After committing a `Sent`, the
caller announces it (`feed.announce`), so clients only ever hear of committed notifications.

Stream order: `seq` is allocated as max + 1 while holding a lock (a Postgres advisory lock;
SQLite has one writer anyway), and a unique constraint catches any race. So seq N + 1 cannot
exist before N is committed: a reader that has seen N and then reads `seq > N` misses nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from msgspec import UNSET
from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.errors import Conflict, Invalid, NotFound
from apps.kernel.fields import ensure_storable
from apps.notifications.models import Held, Mute, Notification, Preference, Receipt, Subscription
from apps.notifications.quiet_hours import format_clock, parse_clock, quiet_window, zone
from apps.notifications.schemas import (
    MuteRead,
    NotificationCreate,
    NotificationRead,
    PreferencesRead,
    PreferencesUpdate,
    QuietHours,
)

SEQ_LOCK_KEY = 7_201_125  # pg_advisory_xact_lock key of the notifications stream
MAX_DATA_BYTES = 16_000
ALLOCATION_ATTEMPTS = 8
DIGEST_TITLES = 5


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Sent:
    """A stored notification, the users it is held back from, and whether it is new."""

    notification: Notification
    held: list[UUID] = field(default_factory=list)
    created: bool = True


def read_model(note: Notification, *, read: bool = False) -> NotificationRead:
    return NotificationRead(
        id=note.id,
        seq=note.seq,
        audience=note.audience,  # type: ignore[arg-type]
        user_id=note.user_id,
        topic=note.topic,
        kind=note.kind,
        title=note.title,
        body=note.body,
        data=note.data,
        sender=note.sender,
        created_at=note.created_at,
        read=read,
    )


def check_audience(data: NotificationCreate) -> None:
    """The audience's required fields are there and no other recipient is named."""
    if data.audience == "user" and data.user_id is None:
        raise Invalid("user_id", "A notification to a user needs `user_id`")
    if data.audience != "user" and data.user_id is not None:
        raise Invalid("user_id", f"`user_id` is only for audience `user`, not {data.audience!r}")
    if data.audience == "topic" and data.topic is None:
        raise Invalid("topic", "A notification to a topic needs `topic`")
    encoded = json.dumps(data.data, ensure_ascii=True)
    if len(encoded) > MAX_DATA_BYTES:
        raise Invalid("data", f"`data` must encode to at most {MAX_DATA_BYTES} bytes of JSON")
    if "\\u0000" in encoded:
        raise Invalid("data", "`data` must not contain NUL characters")


def in_feed(user_id: UUID) -> ColumnElement[bool]:
    """Notifications `user_id` receives: theirs, their topics', everyone's."""
    topics = select(Subscription.topic).where(Subscription.user_id == user_id)
    return or_(
        and_(Notification.audience == "user", Notification.user_id == user_id),
        and_(Notification.audience == "topic", Notification.topic.in_(topics)),
        Notification.audience == "everyone",
    )


def _held_for(user_id: UUID) -> ColumnElement[bool]:
    return exists().where(Held.user_id == user_id, Held.seq == Notification.seq)


def _unread(user_id: UUID, read_through: int) -> ColumnElement[bool]:
    receipt = exists().where(Receipt.user_id == user_id, Receipt.seq == Notification.seq)
    return and_(Notification.seq > read_through, ~receipt)


class NotificationService:
    """Notifications and per-user state; the session is owned by the caller."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- sending ---------------------------------------------------------------------------

    async def send(
        self, data: NotificationCreate, *, sender: str, now: datetime | None = None
    ) -> Sent:
        """Store a notification (or find the one with the same `key`) and hold it back from
        the recipients who muted its topic or are in quiet hours."""
        check_audience(data)
        if data.key is not None:
            existing = await self._by_key(data.key)
            if existing is not None:
                return Sent(existing, created=False)
        now = now or utcnow()
        for _ in range(ALLOCATION_ATTEMPTS):
            try:
                async with self.session.begin_nested():
                    note = await self._insert(data, sender)
            except IntegrityError:
                if data.key is not None and (found := await self._by_key(data.key)) is not None:
                    return Sent(found, created=False)
                continue
            held = await self._hold(note, now)
            return Sent(note, held)
        raise Conflict("The notification stream is busy; try again")

    async def _by_key(self, key: str) -> Notification | None:
        return await self.session.scalar(select(Notification).where(Notification.dedupe_key == key))

    async def _insert(self, data: NotificationCreate, sender: str) -> Notification:
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQ_LOCK_KEY}
            )
        last = await self.session.scalar(select(func.max(Notification.seq)))
        note = Notification(
            seq=int(last or 0) + 1,
            audience=data.audience,
            user_id=data.user_id,
            topic=data.topic,
            kind=data.kind,
            title=data.title,
            body=data.body,
            data=data.data,
            sender=sender[:100],
            dedupe_key=data.key,
        )
        self.session.add(note)
        await self.session.flush()
        return note

    async def _recipients_with_rules(self, note: Notification) -> list[UUID] | None:
        """Recipients among whom to look for holds: None means anyone (everyone)."""
        if note.audience == "user":
            return [note.user_id] if note.user_id else []
        if note.audience == "topic":
            rows = await self.session.scalars(
                select(Subscription.user_id).where(Subscription.topic == note.topic)
            )
            return list(rows)
        return None

    async def _hold(self, note: Notification, now: datetime) -> list[UUID]:
        if note.kind == "digest":
            return []
        recipients = await self._recipients_with_rules(note)
        if recipients == []:
            return []
        quiet_query = select(Preference).where(Preference.quiet_start.is_not(None))
        mute_query = select(Mute).where(
            Mute.topic == note.topic, or_(Mute.until.is_(None), Mute.until > now)
        )
        if recipients is not None:
            quiet_query = quiet_query.where(Preference.user_id.in_(recipients))
            mute_query = mute_query.where(Mute.user_id.in_(recipients))
        release: dict[UUID, tuple[str, datetime | None]] = {}
        for pref in await self.session.scalars(quiet_query):
            window = quiet_window(pref.timezone, pref.quiet_start, pref.quiet_end, now)
            if window is not None:
                release[pref.user_id] = ("quiet", window[1])
        if note.topic is not None:
            for mute in await self.session.scalars(mute_query):
                quiet = release.get(mute.user_id)
                if quiet is None:
                    release[mute.user_id] = ("mute", mute.until)
                else:
                    ends = None if mute.until is None else max(mute.until, quiet[1] or now)
                    release[mute.user_id] = ("both", ends)
        for user_id, (reason, release_at) in release.items():
            self.session.add(
                Held(
                    user_id=user_id,
                    seq=note.seq,
                    topic=note.topic,
                    reason=reason,
                    release_at=release_at,
                )
            )
        if release:
            await self.session.flush()
        return sorted(release)

    # ---- the inbox ---------------------------------------------------------------------------

    async def preference(self, user_id: UUID) -> Preference:
        """The user's preference row, created with defaults on first use."""
        pref = await self.session.scalar(select(Preference).where(Preference.user_id == user_id))
        if pref is not None:
            return pref
        try:
            async with self.session.begin_nested():
                pref = Preference(user_id=user_id, timezone="UTC", read_through=0)
                self.session.add(pref)
                await self.session.flush()
        except IntegrityError:
            pref = await self.session.scalar(
                select(Preference).where(Preference.user_id == user_id)
            )
            assert pref is not None
        return pref

    async def _read_through(self, user_id: UUID) -> int:
        value = await self.session.scalar(
            select(Preference.read_through).where(Preference.user_id == user_id)
        )
        return int(value or 0)

    async def inbox(
        self, user_id: UUID, *, unread_only: bool, page: int, page_size: int
    ) -> tuple[list[NotificationRead], int]:
        """A page of the user's notifications, newest first, with their read state."""
        read_through = await self._read_through(user_id)
        query = select(Notification).where(in_feed(user_id))
        if unread_only:
            query = query.where(_unread(user_id, read_through))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = list(
            await self.session.scalars(
                query.order_by(Notification.seq.desc())
                .limit(page_size)
                .offset((page - 1) * page_size)
            )
        )
        receipts = set(
            await self.session.scalars(
                select(Receipt.seq).where(
                    Receipt.user_id == user_id, Receipt.seq.in_([n.seq for n in rows])
                )
            )
        )
        items = [read_model(n, read=n.seq <= read_through or n.seq in receipts) for n in rows]
        return items, int(total or 0)

    async def unread_count(self, user_id: UUID) -> int:
        read_through = await self._read_through(user_id)
        count = await self.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(in_feed(user_id), _unread(user_id, read_through))
        )
        return int(count or 0)

    async def get(self, user_id: UUID, notification_id: UUID) -> Notification:
        note = await self.session.scalar(
            select(Notification).where(Notification.id == notification_id, in_feed(user_id))
        )
        if note is None:
            raise NotFound(f"No notification {notification_id}", field="notification_id")
        return note

    async def mark_read(self, user_id: UUID, notification_id: UUID) -> NotificationRead:
        note = await self.get(user_id, notification_id)
        if note.seq > await self._read_through(user_id):
            try:
                async with self.session.begin_nested():
                    self.session.add(Receipt(user_id=user_id, seq=note.seq))
                    await self.session.flush()
            except IntegrityError:
                pass  # already read: marking again changes nothing
        return read_model(note, read=True)

    async def mark_all_read(self, user_id: UUID) -> int:
        """Everything received so far becomes read; returns how many were unread."""
        marked = await self.unread_count(user_id)
        last = await self.session.scalar(select(func.max(Notification.seq)))
        pref = await self.preference(user_id)
        pref.read_through = max(pref.read_through, int(last or 0))
        await self.session.execute(
            delete(Receipt).where(Receipt.user_id == user_id, Receipt.seq <= pref.read_through)
        )
        await self.session.flush()
        return marked

    async def replay(self, user_id: UUID, *, after: int, limit: int) -> list[NotificationRead]:
        """What a client resuming after `after` missed: pushed notifications, oldest first."""
        rows = await self.session.scalars(
            select(Notification)
            .where(Notification.seq > after, in_feed(user_id), ~_held_for(user_id))
            .order_by(Notification.seq)
            .limit(limit)
        )
        return [read_model(n) for n in rows]

    async def last_seq(self) -> int:
        return int(await self.session.scalar(select(func.max(Notification.seq))) or 0)

    async def after(self, seq: int, *, limit: int, upto: int | None = None) -> list[Notification]:
        """Every notification after `seq` (up to `upto`), in stream order."""
        query = select(Notification).where(Notification.seq > seq)
        if upto is not None:
            query = query.where(Notification.seq <= upto)
        return list(await self.session.scalars(query.order_by(Notification.seq).limit(limit)))

    async def held_users(self, seqs: Sequence[int]) -> dict[int, set[UUID]]:
        held: dict[int, set[UUID]] = {}
        rows = await self.session.execute(
            select(Held.seq, Held.user_id).where(Held.seq.in_(list(seqs)))
        )
        for seq, user_id in rows:
            held.setdefault(seq, set()).add(user_id)
        return held

    # ---- topics and preferences ------------------------------------------------------------

    async def topics(self, user_id: UUID) -> list[str]:
        rows = await self.session.scalars(
            select(Subscription.topic)
            .where(Subscription.user_id == user_id)
            .order_by(Subscription.topic)
        )
        return list(rows)

    async def subscribe(self, user_id: UUID, topic: str) -> None:
        try:
            async with self.session.begin_nested():
                self.session.add(Subscription(user_id=user_id, topic=topic))
                await self.session.flush()
        except IntegrityError:
            pass  # already subscribed

    async def unsubscribe(self, user_id: UUID, topic: str) -> None:
        await self.session.execute(
            delete(Subscription).where(Subscription.user_id == user_id, Subscription.topic == topic)
        )

    async def preferences(self, user_id: UUID, now: datetime | None = None) -> PreferencesRead:
        now = now or utcnow()
        pref = await self.preference(user_id)
        mutes = await self.session.scalars(
            select(Mute)
            .where(Mute.user_id == user_id, or_(Mute.until.is_(None), Mute.until > now))
            .order_by(Mute.topic)
        )
        quiet = (
            QuietHours(start=format_clock(pref.quiet_start), end=format_clock(pref.quiet_end))
            if pref.quiet_start is not None and pref.quiet_end is not None
            else None
        )
        return PreferencesRead(
            timezone=pref.timezone,
            quiet_hours=quiet,
            mutes=[MuteRead(topic=m.topic, until=m.until) for m in mutes],
            topics=await self.topics(user_id),
        )

    async def update_preferences(self, user_id: UUID, changes: PreferencesUpdate) -> None:
        pref = await self.preference(user_id)
        if changes.timezone is not UNSET:
            zone(changes.timezone, "timezone")
            pref.timezone = changes.timezone
        if changes.quiet_hours is None:
            pref.quiet_start = pref.quiet_end = None
        elif changes.quiet_hours is not UNSET:
            start = parse_clock(changes.quiet_hours.start, "quiet_hours.start")
            end = parse_clock(changes.quiet_hours.end, "quiet_hours.end")
            if start == end:
                raise Invalid("quiet_hours.end", "Quiet hours must end at another time of day")
            pref.quiet_start, pref.quiet_end = start, end
        await self.session.flush()

    async def mute(
        self, user_id: UUID, topic: str, until: datetime | None, now: datetime | None = None
    ) -> MuteRead:
        now = now or utcnow()
        ensure_storable(until, "until")
        if until is not None and until <= now:
            raise Invalid("until", "A mute must end in the future (or be open-ended: null)")
        found = await self.session.scalar(
            select(Mute).where(Mute.user_id == user_id, Mute.topic == topic)
        )
        if found is None:
            try:
                async with self.session.begin_nested():
                    found = Mute(user_id=user_id, topic=topic, until=until)
                    self.session.add(found)
                    await self.session.flush()
            except IntegrityError:
                raise Conflict(f"{topic!r} is being muted by another request") from None
        else:
            found.until = until
            await self.session.execute(
                update(Held)
                .where(Held.user_id == user_id, Held.topic == topic, Held.digest_seq.is_(None))
                .where(Held.reason != "quiet")
                .values(release_at=until)
            )
        await self.session.flush()
        return MuteRead(topic=topic, until=until)

    async def unmute(self, user_id: UUID, topic: str, now: datetime | None = None) -> None:
        """The mute ends now: what it held goes out in the next digest."""
        now = now or utcnow()
        await self.session.execute(delete(Mute).where(Mute.user_id == user_id, Mute.topic == topic))
        await self.session.execute(
            update(Held)
            .where(
                Held.user_id == user_id,
                Held.topic == topic,
                Held.reason != "quiet",
                Held.digest_seq.is_(None),
                or_(Held.release_at.is_(None), Held.release_at > now),
            )
            .values(release_at=now)
        )

    # ---- digests ---------------------------------------------------------------------------

    async def due_digests(self, now: datetime | None = None, limit: int = 200) -> list[UUID]:
        """Users with held notifications whose hold has ended."""
        rows = await self.session.scalars(
            select(Held.user_id)
            .where(Held.digest_seq.is_(None), Held.release_at <= (now or utcnow()))
            .group_by(Held.user_id)
            .limit(limit)
        )
        return list(rows)

    async def send_digest(self, user_id: UUID, now: datetime | None = None) -> Sent | None:
        """One summary of the user's released holds, sent to them; None when nothing is due."""
        now = now or utcnow()
        holds = list(
            await self.session.scalars(
                select(Held)
                .where(Held.user_id == user_id, Held.digest_seq.is_(None), Held.release_at <= now)
                .order_by(Held.seq)
                .with_for_update()
            )
        )
        if not holds:
            return None
        notes = list(
            await self.session.scalars(
                select(Notification)
                .where(Notification.seq.in_([h.seq for h in holds]))
                .order_by(Notification.seq)
            )
        )
        by_topic = Counter(n.topic or "direct" for n in notes)
        summary = ", ".join(f"{count} in {topic}" for topic, count in sorted(by_topic.items()))
        titles = "; ".join(n.title for n in notes[:DIGEST_TITLES])
        more = f" and {len(notes) - DIGEST_TITLES} more" if len(notes) > DIGEST_TITLES else ""
        digest = NotificationCreate(
            audience="user",
            user_id=user_id,
            kind="digest",
            title=f"{len(notes)} notification{'s' if len(notes) != 1 else ''} while you were away",
            body=f"{summary}: {titles}{more}"[:5000],
            data={"count": len(notes), "seqs": [n.seq for n in notes], "topics": dict(by_topic)},
            key=f"digest:{user_id}:{holds[0].seq}:{holds[-1].seq}",
        )
        sent = await self.send(digest, sender="digest", now=now)
        for hold in holds:
            hold.digest_seq = sent.notification.seq
        await self.session.flush()
        return sent
