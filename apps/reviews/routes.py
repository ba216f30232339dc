"""The reviews API at /reviews: restaurants, their reviews, and the leaderboard.

Writing a review answers at once with `sentiment: pending`; the analysis is dispatched after
the response, once the review is committed, and it re-ranks the restaurant.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from litestar import Controller, Litestar, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import Provide
from litestar.params import Parameter
from litestar.security.jwt import Token
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel import db
from apps.kernel.cache import get_redis
from apps.kernel.errors import ServiceUnavailable
from apps.kernel.fields import NO_NUL
from apps.kernel.identity import CurrentUser, requires_admin, requires_user
from apps.kernel.pagination import MAX_PAGE_SIZE, Page, make_page
from apps.kernel.settings import get_settings
from apps.reviews import leaderboard
from apps.reviews.models import Restaurant, Review
from apps.reviews.schemas import (
    LabelCounts,
    Leaderboard,
    RestaurantCreate,
    RestaurantDetail,
    RestaurantRead,
    ReviewRead,
    ReviewSubmit,
    SentimentLabel,
    SentimentRead,
)
from apps.reviews.services import (
    CITY_KEY_LENGTH,
    RestaurantService,
    ReviewService,
    all_standings,
    fold,
    standing_of,
)
from apps.reviews.tasks import dispatch_analysis

logger = logging.getLogger("stackyard.reviews")

MAX_LEADERBOARD = 100


async def provide_restaurants(db_session: AsyncSession) -> RestaurantService:
    return RestaurantService(db_session)


async def provide_reviews(db_session: AsyncSession) -> ReviewService:
    return ReviewService(db_session)


def restaurant_read(restaurant: Restaurant) -> RestaurantRead:
    return RestaurantRead(
        id=restaurant.id,
        name=restaurant.name,
        city=restaurant.city,
        created_at=restaurant.created_at,
    )


def review_read(review: Review) -> ReviewRead:
    return ReviewRead(
        id=review.id,
        restaurant_id=review.restaurant_id,
        user_id=review.user_id,
        stars=review.stars,
        text=review.text,
        sentiment=SentimentRead(
            label=review.sentiment_label,  # type: ignore[arg-type]
            compound=review.sentiment_compound,
        ),
        created_at=review.created_at,
        updated_at=review.updated_at,
    )


class RestaurantController(Controller):
    """Restaurants (brief #12): admins add them; anyone searches, reads and ranks them."""

    path = "/restaurants"
    dependencies = {
        "restaurants": Provide(provide_restaurants),
        "reviews": Provide(provide_reviews),
    }

    @post("/", operation_id="CreateRestaurant", status_code=201, guards=[requires_admin])
    async def create_restaurant(
        self,
        request: Request[CurrentUser, Token, Any],
        data: RestaurantCreate,
        restaurants: RestaurantService,
    ) -> RestaurantRead:
        """Add a restaurant; the same name in the same city (any case) is a 409."""
        return restaurant_read(await restaurants.create(data.name, data.city, request.user.id))

    @get("/", operation_id="ListRestaurants")
    async def list_restaurants(
        self,
        request: Request[Any, Any, Any],
        restaurants: RestaurantService,
        q: str | None = Parameter(
            default=None, max_length=200, pattern=NO_NUL, description="Part of the name"
        ),
        city: str | None = Parameter(
            default=None, max_length=100, pattern=NO_NUL, description="The city (any case)"
        ),
        page: int = Parameter(default=1, ge=1, le=1_000_000),
        page_size: int = Parameter(default=20, ge=1, le=MAX_PAGE_SIZE),
    ) -> Page[RestaurantRead]:
        """Restaurants by name, optionally those whose name contains `q` in `city`."""
        rows, total = await restaurants.search(q=q, city=city, page=page, page_size=page_size)
        return make_page(
            request, [restaurant_read(r) for r in rows], total=total, page=page, page_size=page_size
        )

    @get("/{restaurant_id:uuid}", operation_id="GetRestaurant")
    async def get_restaurant(
        self, restaurants: RestaurantService, restaurant_id: UUID
    ) -> RestaurantDetail:
        """A restaurant with its score, label counts and its rank (overall and in its city)."""
        restaurant = await restaurants.get(restaurant_id)
        standing = await standing_of(restaurants.session, restaurant)
        try:
            rank, city_rank = await leaderboard.ranks(
                get_redis(), restaurant.id, restaurant.city_key
            )
        except RedisError:
            logger.warning("leaderboard unreachable; answering without ranks", exc_info=True)
            rank = city_rank = None
        return RestaurantDetail(
            id=restaurant.id,
            name=restaurant.name,
            city=restaurant.city,
            created_at=restaurant.created_at,
            reviews=standing.reviews,
            average_stars=standing.average_stars,
            score=standing.score,
            label_counts=LabelCounts(**standing.label_counts),
            rank=rank,
            city_rank=city_rank,
        )

    @post(
        "/{restaurant_id:uuid}/reviews",
        operation_id="SubmitReview",
        guards=[requires_user],
    )
    async def submit_review(
        self,
        request: Request[CurrentUser, Token, Any],
        restaurant_id: UUID,
        data: ReviewSubmit,
        reviews: ReviewService,
    ) -> Response[ReviewRead]:
        """Write my review of this restaurant (201), or replace it if I wrote one (200).

        The answer carries `sentiment: pending` when the text is new; the analysis follows.
        """
        review, created, analyse = await reviews.submit(
            restaurant_id, request.user.id, data.stars, data.text
        )
        return Response(
            review_read(review),
            status_code=201 if created else 200,
            background=BackgroundTask(dispatch_analysis, review.id) if analyse else None,
        )

    @get("/{restaurant_id:uuid}/reviews", operation_id="ListReviews")
    async def list_reviews(
        self,
        request: Request[Any, Any, Any],
        restaurant_id: UUID,
        reviews: ReviewService,
        label: SentimentLabel | None = Parameter(
            default=None, description="Only reviews with this sentiment label"
        ),
        page: int = Parameter(default=1, ge=1, le=1_000_000),
        page_size: int = Parameter(default=20, ge=1, le=MAX_PAGE_SIZE),
    ) -> Page[ReviewRead]:
        """A restaurant's reviews, newest first."""
        rows, total = await reviews.list_for(
            restaurant_id, label=label, page=page, page_size=page_size
        )
        return make_page(
            request, [review_read(r) for r in rows], total=total, page=page, page_size=page_size
        )


async def rebuild_embedded_leaderboard() -> None:
    """On the embedded defaults Redis is a fake that starts empty: fill it from the database."""
    if not get_settings().embedded:
        return
    try:
        async with db.session() as session:
            await leaderboard.rebuild(get_redis(), all_standings(session))
    except Exception:
        logger.exception("the embedded leaderboard could not be rebuilt at start")


class leaderboard_route(get):
    """`@get` whose registration has the application rebuild an embedded leaderboard at start."""

    def on_registration(self, app: Litestar) -> None:
        super().on_registration(app)
        if rebuild_embedded_leaderboard not in app.on_startup:
            app.on_startup.append(rebuild_embedded_leaderboard)


@leaderboard_route("/leaderboard", operation_id="Leaderboard")
async def show_leaderboard(
    limit: int = Parameter(default=10, ge=1, le=MAX_LEADERBOARD),
    city: str | None = Parameter(
        default=None, max_length=100, pattern=NO_NUL, description="Only this city (any case)"
    ),
) -> Leaderboard:
    """The best restaurants by Bayesian sentiment score, read from Redis alone."""
    city_key = fold(city)[:CITY_KEY_LENGTH] if city else ""
    try:
        items = await leaderboard.top(get_redis(), limit=limit, city_key=city_key or None)
    except RedisError:
        raise ServiceUnavailable("The leaderboard is unreachable; try again shortly") from None
    return Leaderboard(items=items)
