"""The leaderboard: Redis sorted sets ranked by a Bayesian average, rebuilt from the database."""

from __future__ import annotations

import re
import uuid
from uuid import UUID

import pytest
from typer.testing import CliRunner

from tests.apps.reviews.conftest import (
    LEADERBOARD,
    RESTAURANTS,
    add_restaurant,
    review,
    reviews_of,
    run,
    unique_city,
)

GLOWING = "Absolutely perfect! The best meal of my life, amazing!!!"
GOOD = "Good food and nice service."


def seed_reviews(restaurant_id: str, texts: list[str]) -> None:
    """Reviews by as many users, each analysed by the task's own code, as a worker would."""
    from apps.kernel import db
    from apps.kernel.cache import get_redis
    from apps.reviews.services import ReviewService, record_sentiment

    async def main() -> None:
        async with db.session() as session:
            service = ReviewService(session)
            ids = [
                (await service.submit(UUID(restaurant_id), uuid.uuid4(), 4, text))[0].id
                for text in texts
            ]
        for review_id in ids:
            await record_sentiment(review_id, get_redis(), db.session)

    run(main)


def board(client, **params):
    response = client.get(LEADERBOARD, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def wipe_redis_index() -> None:
    from apps.kernel.cache import get_redis

    async def main() -> None:
        redis = get_redis()
        keys = [key async for key in redis.scan_iter(match="reviews:*")]
        if keys:
            await redis.delete(*keys)

    run(main)


def rebuild_from_database() -> int:
    from apps.kernel import db
    from apps.kernel.cache import get_redis
    from apps.reviews import leaderboard
    from apps.reviews.services import all_standings

    async def main() -> int:
        async with db.session() as session:
            return await leaderboard.rebuild(get_redis(), all_standings(session))

    return run(main)


def test_one_glowing_review_does_not_beat_a_hundred_good_ones(client, admin, user, eager_analysis):
    city = unique_city()
    glowing = add_restaurant(client, admin, name="One Hit Wonder", city=city)
    steady = add_restaurant(client, admin, name="Old Reliable", city=city)
    review(client, user, glowing["id"], GLOWING, stars=5)
    seed_reviews(steady["id"], [GOOD] * 100)

    items = board(client, city=city)
    assert [item["restaurant_id"] for item in items] == [steady["id"], glowing["id"]]
    assert items[0]["reviews"] == 100
    assert items[0]["label_counts"] == {
        "positive": 100,
        "neutral": 0,
        "negative": 0,
        "pending": 0,
    }
    assert items[0]["score"] > items[1]["score"] > 0
    assert [item["rank"] for item in items] == [1, 2]
    assert items[1]["name"] == "One Hit Wonder"
    assert items[1]["city"] == city


def test_restaurant_shows_score_rank_and_label_counts(
    client, admin, user, other_user, eager_analysis
):
    city = unique_city()
    loved = add_restaurant(client, admin, city=city)
    mixed = add_restaurant(client, admin, city=city)
    review(client, user, loved["id"], "Delicious, friendly and fast.", stars=5)
    review(client, user, mixed["id"], "The chicken was undercooked.", stars=2)
    review(client, other_user, mixed["id"], "The room has twelve tables.", stars=3)

    detail = client.get(f"{RESTAURANTS}/{mixed['id']}").json()
    assert detail["reviews"] == 2
    assert detail["label_counts"] == {"positive": 0, "neutral": 1, "negative": 1, "pending": 0}
    assert detail["average_stars"] == 2.5
    assert detail["score"] < 0
    assert detail["city_rank"] == 2
    assert detail["rank"] > client.get(f"{RESTAURANTS}/{loved['id']}").json()["rank"]
    loved_detail = client.get(f"{RESTAURANTS}/{loved['id']}").json()
    assert loved_detail["city_rank"] == 1
    assert loved_detail["score"] == pytest.approx(board(client, city=city)[0]["score"], abs=1e-6)


def test_leaderboard_filters_by_city_any_case_and_limits(client, admin, user, eager_analysis):
    city, other = unique_city(), unique_city()
    here = [add_restaurant(client, admin, city=city) for _ in range(3)]
    there = add_restaurant(client, admin, city=other)
    for restaurant in [*here, there]:
        review(client, user, restaurant["id"], "Tasty food.", stars=4)

    assert {item["restaurant_id"] for item in board(client, city=city.upper())} == {
        r["id"] for r in here
    }
    assert len(board(client, city=city, limit=2)) == 2
    assert [item["restaurant_id"] for item in board(client, city=other)] == [there["id"]]
    assert board(client, city=unique_city()) == []
    everywhere = {item["restaurant_id"] for item in board(client, limit=100)}
    assert len(everywhere) <= 100


def test_unreviewed_and_pending_restaurants_are_not_ranked(client, admin, user, worker_not_started):
    city = unique_city()
    quiet = add_restaurant(client, admin, city=city)
    waiting = add_restaurant(client, admin, city=city)
    review(client, user, waiting["id"], "Lovely.")
    assert board(client, city=city) == []
    assert client.get(f"{RESTAURANTS}/{quiet['id']}").json()["rank"] is None


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "ten"}])
def test_leaderboard_limit_is_bounded(client, params):
    response = client.get(LEADERBOARD, params=params)
    assert response.status_code in (400, 422)
    assert response.json()["field"] == "limit"


def test_leaderboard_reads_redis_only_and_rebuilds_from_the_database(
    client, admin, user, eager_analysis
):
    city = unique_city()
    restaurant = add_restaurant(client, admin, city=city)
    review(client, user, restaurant["id"], "Wonderful evening, superb wine.", stars=5)
    before = board(client, city=city)
    assert [item["restaurant_id"] for item in before] == [restaurant["id"]]

    wipe_redis_index()
    assert board(client, city=city) == []  # the database still has it: Redis alone answers
    assert client.get(f"{RESTAURANTS}/{restaurant['id']}").json()["rank"] is None

    assert rebuild_from_database() >= 1
    assert board(client, city=city) == before
    assert client.get(f"{RESTAURANTS}/{restaurant['id']}").json()["city_rank"] == 1


def test_rebuild_drops_boards_of_cities_without_ranked_restaurants(client, admin, user):
    from apps.kernel.cache import get_redis
    from apps.reviews.leaderboard import city_board

    ghost = city_board("atlantis " + uuid.uuid4().hex[:6])

    async def plant() -> None:
        await get_redis().zadd(ghost, {str(uuid.uuid4()): 1.0})

    async def exists() -> int:
        return await get_redis().exists(ghost)

    run(plant)
    rebuild_from_database()
    assert run(exists) == 0


def test_cli_rebuild_analyses_lost_tasks_and_ranks_them(
    client, admin, user, stack, worker_not_started
):
    from apps.cli import app

    city = unique_city()
    restaurant = add_restaurant(client, admin, city=city)
    review(client, user, restaurant["id"], "Crispy, juicy and perfectly seasoned.")
    assert reviews_of(client, restaurant["id"])[0]["sentiment"]["label"] == "pending"

    result = CliRunner().invoke(app, ["reviews", "rebuild"])
    assert result.exit_code == 0, result.output
    assert re.search(r"analysed [1-9]\d* pending reviews", result.output)
    assert reviews_of(client, restaurant["id"])[0]["sentiment"]["label"] == "positive"
    if stack.real:
        assert "leaderboard rebuilt" in result.output
        assert [item["restaurant_id"] for item in board(client, city=city)] == [restaurant["id"]]
    else:
        assert "embedded Redis lives inside the server" in result.output


def test_cli_analyse_prints_label_and_compound():
    from apps.cli import app

    result = CliRunner().invoke(app, ["reviews", "analyse", "Not bad at all."])
    assert result.exit_code == 0, result.output
    label, compound = result.output.split()
    assert label == "positive"
    assert float(compound) >= 0.05
