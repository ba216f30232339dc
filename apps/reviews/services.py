"""Reviews domain logic: restaurants, one review per user per restaurant, and standings.

A restaurant's standing (label counts, Bayesian score) is always computed from the database;
`apps.reviews.leaderboard` only copies it into Redis. No HTTP objects here; the caller owns
the session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from redis.asyncio import Redis
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.errors import Conflict, Invalid, NotFound
from apps.reviews import leaderboard
from apps.reviews.models import PENDING, Restaurant, Review
from apps.reviews.sentiment import LABELS, Sentiment, analyse

PRIOR_MEAN = 0.0
"""The score a restaurant is assumed to have before its reviews say otherwise (neutral)."""
PRIOR_WEIGHT = 5.0
"""How many reviews' worth of weight the prior carries: one glowing review moves the score
to about a sixth of its compound, a hundred good ones to nearly their mean."""

NAME_KEY_LENGTH = 200
CITY_KEY_LENGTH = 100

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def fold(text: str) -> str:
    """The search form of a name or city: runs of spaces collapsed, case folded."""
    return " ".join(text.split()).casefold()


def tidy(text: str) -> str:
    return " ".join(text.split())


def bayesian_score(compound_sum: float, analysed: int) -> float:
    """(prior weight x prior mean + sum of compounds) / (prior weight + analysed reviews)."""
    return round((PRIOR_WEIGHT * PRIOR_MEAN + compound_sum) / (PRIOR_WEIGHT + analysed), 6)


@dataclass(frozen=True)
class Standing:
    """A restaurant's reviews summed up from the database."""

    restaurant_id: UUID
    name: str
    city: str
    city_key: str
    label_counts: dict[str, int] = field(default_factory=dict)
    compound_sum: float = 0.0
    stars_sum: int = 0

    @property
    def reviews(self) -> int:
        return sum(self.label_counts.values())

    @property
    def analysed(self) -> int:
        return sum(self.label_counts.get(label, 0) for label in LABELS)

    @property
    def score(self) -> float | None:
        """Null until at least one review has been analysed."""
        return bayesian_score(self.compound_sum, self.analysed) if self.analysed else None

    @property
    def average_stars(self) -> float | None:
        return round(self.stars_sum / self.reviews, 2) if self.reviews else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class RestaurantService:
    """Restaurants: admins add them, anyone finds them by name and city."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, name: str, city: str, created_by: UUID) -> Restaurant:
        name, city = tidy(name), tidy(city)
        if not name:
            raise Invalid("name", "name must not be blank")
        if not city:
            raise Invalid("city", "city must not be blank")
        # Case folding can lengthen text ("ß" -> "ss"): keys keep to their columns' lengths.
        name_key, city_key = fold(name)[:NAME_KEY_LENGTH], fold(city)[:CITY_KEY_LENGTH]
        taken = await self.session.scalar(
            select(Restaurant.id).where(
                Restaurant.name_key == name_key, Restaurant.city_key == city_key
            )
        )
        if taken is not None:
            raise Conflict(f"{name!r} in {city} already exists as {taken}", field="name")
        restaurant = Restaurant(
            name=name, city=city, name_key=name_key, city_key=city_key, created_by=created_by
        )
        self.session.add(restaurant)
        await self.session.flush()
        return restaurant

    async def get(self, restaurant_id: UUID) -> Restaurant:
        restaurant = await self.session.get(Restaurant, restaurant_id)
        if restaurant is None:
            raise NotFound(f"No restaurant {restaurant_id}", field="restaurant_id")
        return restaurant

    async def search(
        self, *, q: str | None, city: str | None, page: int, page_size: int
    ) -> tuple[list[Restaurant], int]:
        """Restaurants whose name contains `q` in `city` (both case-insensitive), by name."""
        query: Select[Restaurant] = select(Restaurant)
        if q and fold(q):
            pattern = f"%{_escape_like(fold(q))}%"
            query = query.where(Restaurant.name_key.like(pattern, escape="\\"))
        if city and fold(city):
            query = query.where(Restaurant.city_key == fold(city)[:CITY_KEY_LENGTH])
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(Restaurant.name_key, Restaurant.city_key, Restaurant.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return list(rows), int(total or 0)


class ReviewService:
    """Reviews: one per user per restaurant, replaced when the user submits again."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def submit(
        self, restaurant_id: UUID, user_id: UUID, stars: int, text: str
    ) -> tuple[Review, bool, bool]:
        """Create or edit my review; returns (review, created, needs analysis).

        A changed text goes back to `pending` until the analysis task has read it again.
        """
        await RestaurantService(self.session).get(restaurant_id)
        if not text.strip():
            raise Invalid("text", "text must not be blank")
        review = await self.session.scalar(
            select(Review)
            .where(Review.restaurant_id == restaurant_id, Review.user_id == user_id)
            .with_for_update()
        )
        created = review is None
        if review is None:
            review = Review(
                restaurant_id=restaurant_id,
                user_id=user_id,
                stars=stars,
                text=text,
                sentiment_label=PENDING,
                sentiment_compound=None,
            )
            self.session.add(review)
            changed_text = True
        else:
            changed_text = review.text != text
            review.stars = stars
            if changed_text:
                review.text = text
                review.sentiment_label = PENDING
                review.sentiment_compound = None
        await self.session.flush()
        return review, created, changed_text

    async def list_for(
        self, restaurant_id: UUID, *, label: str | None, page: int, page_size: int
    ) -> tuple[list[Review], int]:
        """A restaurant's reviews, newest first, optionally of one sentiment label."""
        await RestaurantService(self.session).get(restaurant_id)
        query = select(Review).where(Review.restaurant_id == restaurant_id)
        if label:
            query = query.where(Review.sentiment_label == label)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(Review.created_at.desc(), Review.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return list(rows), int(total or 0)


def _standing_query() -> Select[UUID, str, int, float | None, int]:
    return select(
        Review.restaurant_id,
        Review.sentiment_label,
        func.count(),
        func.sum(Review.sentiment_compound),
        func.sum(Review.stars),
    ).group_by(Review.restaurant_id, Review.sentiment_label)


def _standing(
    restaurant: Restaurant, rows: list[tuple[str, int, float | None, int | None]]
) -> Standing:
    counts = {label: 0 for label in (*LABELS, PENDING)}
    compound_sum, stars_sum = 0.0, 0
    for label, count, compounds, stars in rows:
        counts[label] = counts.get(label, 0) + int(count)
        if label != PENDING:
            compound_sum += float(compounds or 0.0)
        stars_sum += int(stars or 0)
    return Standing(
        restaurant_id=restaurant.id,
        name=restaurant.name,
        city=restaurant.city,
        city_key=restaurant.city_key,
        label_counts=counts,
        compound_sum=compound_sum,
        stars_sum=stars_sum,
    )


async def standing_of(session: AsyncSession, restaurant: Restaurant) -> Standing:
    """The restaurant's label counts and score, from its reviews in the database."""
    rows = await session.execute(_standing_query().where(Review.restaurant_id == restaurant.id))
    return _standing(restaurant, [(label, n, c, s) for _, label, n, c, s in rows])


async def all_standings(session: AsyncSession) -> AsyncIterator[Standing]:
    """Every restaurant's standing, in two queries however many restaurants there are."""
    grouped: dict[UUID, list[tuple[str, int, float | None, int | None]]] = {}
    for restaurant_id, label, n, compounds, stars in await session.execute(_standing_query()):
        grouped.setdefault(restaurant_id, []).append((label, n, compounds, stars))
    for restaurant in await session.scalars(select(Restaurant).order_by(Restaurant.id)):
        yield _standing(restaurant, grouped.get(restaurant.id, []))


def _sentiment_values(result: Sentiment) -> dict[str, Any]:
    """The columns an analysis sets; `updated_at` stays the user's (analysing is not editing)."""
    return {
        "sentiment_label": result.label,
        "sentiment_compound": result.compound,
        "updated_at": Review.updated_at,
    }


async def record_sentiment(review_id: UUID, redis: Redis, sessions: SessionFactory) -> str:
    """Analyse a review's current text, store the result and refresh the restaurant's ranking.

    Idempotent: it reads the text again rather than trusting the message, so a repeated or
    late-running task stores the same answer. The per-restaurant lock makes the last writer
    of the leaderboard one that summed up every sentiment committed before it.
    """
    async with sessions() as session:
        restaurant_id = await session.scalar(
            select(Review.restaurant_id).where(Review.id == review_id)
        )
    if restaurant_id is None:
        return "gone"
    async with redis.lock(leaderboard.lock_key(restaurant_id), timeout=60, blocking_timeout=30):
        async with sessions() as session:
            text = await session.scalar(select(Review.text).where(Review.id == review_id))
            label = "gone"
            if text is not None:
                result = analyse(text)
                label = result.label
                await session.execute(
                    update(Review).where(Review.id == review_id).values(**_sentiment_values(result))
                )
        async with sessions() as session:
            restaurant = await session.get(Restaurant, restaurant_id)
            if restaurant is not None:
                await leaderboard.publish(redis, await standing_of(session, restaurant))
    return label


async def analyse_pending(session: AsyncSession) -> int:
    """Analyse, in this process, every review still pending (a lost task); returns how many."""
    reviews = list(await session.scalars(select(Review).where(Review.sentiment_label == PENDING)))
    for review in reviews:
        result = analyse(review.text)
        await session.execute(
            update(Review)
            .where(Review.id == review.id, Review.text == review.text)
            .values(**_sentiment_values(result))
        )
    await session.flush()
    return len(reviews)
