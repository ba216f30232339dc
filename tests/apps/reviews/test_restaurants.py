"""Restaurants: admins add them, anyone lists and searches them by name and city."""

from __future__ import annotations

import uuid

from tests.apps.reviews.conftest import RESTAURANTS, add_restaurant, unique_city


def test_admin_adds_a_restaurant(client, admin):
    city = unique_city()
    body = add_restaurant(client, admin, name="  Chez   Lucie ", city=city)
    assert body["name"] == "Chez Lucie"
    assert body["city"] == city
    detail = client.get(f"{RESTAURANTS}/{body['id']}").json()
    assert detail["name"] == "Chez Lucie"
    assert detail["reviews"] == 0
    assert detail["score"] is None
    assert detail["rank"] is None
    assert detail["label_counts"] == {"positive": 0, "neutral": 0, "negative": 0, "pending": 0}


def test_only_admins_add_restaurants(client, user):
    body = {"name": "Nope", "city": unique_city()}
    assert client.post(RESTAURANTS, json=body, headers=user.headers).status_code == 403
    assert client.post(RESTAURANTS, json=body).status_code == 401


def test_the_same_restaurant_twice_in_a_city_is_a_conflict(client, admin):
    city = unique_city()
    add_restaurant(client, admin, name="Golden Dragon", city=city)
    again = client.post(
        RESTAURANTS, json={"name": "golden  DRAGON", "city": city.upper()}, headers=admin.headers
    )
    assert again.status_code == 409
    assert again.json()["field"] == "name"
    elsewhere = client.post(
        RESTAURANTS, json={"name": "Golden Dragon", "city": unique_city()}, headers=admin.headers
    )
    assert elsewhere.status_code == 201


def test_bad_restaurant_input_names_the_field(client, admin):
    cases = [
        ({"city": "Paris"}, "name"),
        ({"name": "X" * 201, "city": "Paris"}, "name"),
        ({"name": "   ", "city": "Paris"}, "name"),
        ({"name": "Cafe", "city": ""}, "city"),
        ({"name": "Cafe", "city": "Pa\x00ris"}, "city"),
        ({"name": 5, "city": "Paris"}, "name"),
    ]
    for body, field in cases:
        response = client.post(RESTAURANTS, json=body, headers=admin.headers)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] == field, (body, response.json())


def test_search_by_name_and_city(client, admin):
    city, other_city = unique_city(), unique_city()
    tag = uuid.uuid4().hex[:6]
    pizza = add_restaurant(client, admin, name=f"Pizza {tag} Napoli", city=city)
    add_restaurant(client, admin, name=f"Sushi {tag}", city=city)
    add_restaurant(client, admin, name=f"Pizza {tag} Roma", city=other_city)

    both_cities = client.get(RESTAURANTS, params={"q": f"pizza {tag}"}).json()
    assert {r["city"] for r in both_cities["items"]} == {city, other_city}
    assert both_cities["total"] == 2

    in_city = client.get(RESTAURANTS, params={"q": f"PIZZA {tag}", "city": city.lower()}).json()
    assert [r["id"] for r in in_city["items"]] == [pizza["id"]]

    whole_city = client.get(RESTAURANTS, params={"city": city, "page_size": 1}).json()
    assert whole_city["total"] == 2
    assert len(whole_city["items"]) == 1
    assert whole_city["next"] is not None


def test_search_treats_like_wildcards_as_text(client, admin):
    city = unique_city()
    add_restaurant(client, admin, name="Plain Cafe", city=city)
    found = client.get(RESTAURANTS, params={"q": "%", "city": city}).json()
    assert found["total"] == 0


def test_unknown_restaurant_is_404(client):
    response = client.get(f"{RESTAURANTS}/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["field"] == "restaurant_id"
    assert client.get(f"{RESTAURANTS}/not-a-uuid").status_code == 404


def test_names_that_grow_when_case_folded_still_fit(client, admin):
    body = {"name": "\u00df" * 200, "city": "Stra\u00dfe " + unique_city()[:80]}
    response = client.post(RESTAURANTS, json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    found = client.get(RESTAURANTS, params={"q": "ss" * 10, "city": body["city"].upper()}).json()
    assert [r["id"] for r in found["items"]] == [response.json()["id"]]
