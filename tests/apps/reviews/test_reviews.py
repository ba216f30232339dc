"""Reviews: one per user per restaurant, editable, pending until the analysis task runs."""

from __future__ import annotations

import uuid

import pytest

from tests.apps.reviews.conftest import (
    RESTAURANTS,
    add_restaurant,
    review,
    reviews_of,
    run_analysis,
)


def test_a_review_is_visible_at_once_as_pending(client, admin, user, worker_not_started):
    restaurant = add_restaurant(client, admin)
    response = review(client, user, restaurant["id"], "Lovely pasta, friendly staff.", stars=5)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sentiment"] == {"label": "pending", "compound": None}
    assert body["stars"] == 5
    assert body["user_id"] == user.id
    listed = reviews_of(client, restaurant["id"])
    assert [r["sentiment"]["label"] for r in listed] == ["pending"]
    assert worker_not_started == [body["id"]]
    detail = client.get(f"{RESTAURANTS}/{restaurant['id']}").json()
    assert detail["label_counts"]["pending"] == 1
    assert detail["score"] is None


def test_the_task_stores_the_sentiment(client, admin, user, worker_not_started):
    restaurant = add_restaurant(client, admin)
    body = review(client, user, restaurant["id"], "The soup was cold and bland.", 2).json()
    assert run_analysis(body["id"]) == "negative"
    [stored] = reviews_of(client, restaurant["id"])
    assert stored["sentiment"]["label"] == "negative"
    assert stored["sentiment"]["compound"] <= -0.05
    assert stored["updated_at"] == body["updated_at"]  # analysing is not editing


def test_the_task_is_idempotent(client, admin, user, worker_not_started):
    restaurant = add_restaurant(client, admin)
    body = review(client, user, restaurant["id"], "Not bad at all, we will be back.").json()
    run_analysis(body["id"])
    first = client.get(f"{RESTAURANTS}/{restaurant['id']}").json()
    run_analysis(body["id"])
    second = client.get(f"{RESTAURANTS}/{restaurant['id']}").json()
    assert first["label_counts"] == second["label_counts"]
    assert first["label_counts"]["positive"] == 1
    assert first["score"] == second["score"]
    assert first["rank"] == second["rank"] is not None
    assert run_analysis(str(uuid.uuid4())) == "gone"


def test_analysis_runs_after_the_answer_when_eager(client, admin, user, eager_analysis):
    restaurant = add_restaurant(client, admin)
    response = review(client, user, restaurant["id"], "Delicious dumplings, quick service!")
    assert response.json()["sentiment"]["label"] == "pending"
    [stored] = reviews_of(client, restaurant["id"])
    assert stored["sentiment"]["label"] == "positive"
    assert stored["sentiment"]["compound"] >= 0.05


def test_without_a_worker_the_real_broker_keeps_it_pending(client, admin, user, stack):
    if not stack.real:
        pytest.skip("on the embedded defaults the analysis runs in the server process")
    restaurant = add_restaurant(client, admin)
    body = review(client, user, restaurant["id"], "Great view.").json()
    [stored] = reviews_of(client, restaurant["id"])
    assert stored["sentiment"]["label"] == "pending"
    run_analysis(body["id"])
    [stored] = reviews_of(client, restaurant["id"])
    assert stored["sentiment"]["label"] == "positive"


def test_one_review_per_user_a_second_post_edits_it(client, admin, user, worker_not_started):
    restaurant = add_restaurant(client, admin)
    first = review(client, user, restaurant["id"], "Terrible service.", stars=1).json()
    run_analysis(first["id"])
    edited = review(client, user, restaurant["id"], "Much better on a second visit!", stars=4)
    assert edited.status_code == 200
    assert edited.json()["id"] == first["id"]
    assert edited.json()["sentiment"] == {"label": "pending", "compound": None}
    [stored] = reviews_of(client, restaurant["id"])
    assert stored["text"] == "Much better on a second visit!"
    assert stored["stars"] == 4
    run_analysis(first["id"])
    [stored] = reviews_of(client, restaurant["id"])
    assert stored["sentiment"]["label"] == "positive"
    assert worker_not_started == [first["id"], first["id"]]


def test_changing_only_the_stars_keeps_the_sentiment(client, admin, user, worker_not_started):
    restaurant = add_restaurant(client, admin)
    first = review(client, user, restaurant["id"], "Superb wine list.", stars=4).json()
    run_analysis(first["id"])
    again = review(client, user, restaurant["id"], "Superb wine list.", stars=5).json()
    assert again["stars"] == 5
    assert again["sentiment"]["label"] == "positive"
    assert worker_not_started == [first["id"]]


def test_different_users_review_the_same_restaurant(client, admin, user, other_user):
    restaurant = add_restaurant(client, admin)
    assert review(client, user, restaurant["id"], "Fine.").status_code == 201
    assert review(client, other_user, restaurant["id"], "Fine too.").status_code == 201
    assert len(reviews_of(client, restaurant["id"])) == 2


def test_reviews_filter_by_label(client, admin, user, other_user, eager_analysis):
    restaurant = add_restaurant(client, admin)
    review(client, user, restaurant["id"], "The burger was burnt and dry.", 1)
    review(client, other_user, restaurant["id"], "Wonderful staff and tasty food.", 5)
    negative = reviews_of(client, restaurant["id"], label="negative")
    assert [r["user_id"] for r in negative] == [user.id]
    bad = client.get(f"{RESTAURANTS}/{restaurant['id']}/reviews", params={"label": "great"})
    assert bad.status_code in (400, 422)
    assert bad.json()["field"] == "label"


def test_reviewing_an_unknown_restaurant_is_404(client, user):
    response = review(client, user, str(uuid.uuid4()), "Where am I?")
    assert response.status_code == 404
    assert response.json()["field"] == "restaurant_id"
    listing = client.get(f"{RESTAURANTS}/{uuid.uuid4()}/reviews")
    assert listing.status_code == 404


def test_reviewing_needs_a_signed_in_user(client, admin):
    restaurant = add_restaurant(client, admin)
    response = client.post(
        f"{RESTAURANTS}/{restaurant['id']}/reviews", json={"stars": 3, "text": "Anonymous"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stars": 0, "text": "Ok"}, "stars"),
        ({"stars": 6, "text": "Ok"}, "stars"),
        ({"stars": "five", "text": "Ok"}, "stars"),
        ({"stars": 4.5, "text": "Ok"}, "stars"),
        ({"text": "Ok"}, "stars"),
        ({"stars": 3}, "text"),
        ({"stars": 3, "text": ""}, "text"),
        ({"stars": 3, "text": "   "}, "text"),
        ({"stars": 3, "text": "x" * 5001}, "text"),
        ({"stars": 3, "text": "nul \x00 byte"}, "text"),
    ],
)
def test_bad_review_input_names_the_field(client, admin, user, body, field):
    restaurant = add_restaurant(client, admin)
    response = client.post(
        f"{RESTAURANTS}/{restaurant['id']}/reviews", json=body, headers=user.headers
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field, response.json()


def test_unknown_review_fields_are_refused(client, admin, user):
    restaurant = add_restaurant(client, admin)
    response = client.post(
        f"{RESTAURANTS}/{restaurant['id']}/reviews",
        json={"stars": 3, "text": "Ok", "rating": 2},
        headers=user.headers,
    )
    assert response.status_code == 422
    assert "rating" in response.json()["detail"]
