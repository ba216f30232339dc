"""The expense tracker through HTTP: CRUD, isolation, exact amounts, periods and summaries.

Every user here is fresh, so their totals and lists hold only what the test created.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

EXPENSES = "/expenses"


def _today():
    return datetime.now(UTC).date()


def _days_ago(days: int) -> str:
    return (_today() - timedelta(days=days)).isoformat()


def _create(client, account, **fields):
    body = {
        "amount": "10.00",
        "currency": "EUR",
        "category": "Groceries",
        "spent_on": _days_ago(0),
        **fields,
    }
    response = client.post(EXPENSES, json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _get(client, account, path="", **params):
    response = client.get(EXPENSES + path, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _problem(response, status, field):
    """A problem document naming `field`: in `field`, or, for a missing required field, in
    the detail (the kernel reports those against the body, `data`)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if body["field"] == "data":
        assert f"missing required field `{field}`" in body["detail"], body
    else:
        assert body["field"] == field, body


# ---- CRUD ------------------------------------------------------------------------------


def test_create_and_read_an_expense(client, user):
    created = _create(
        client,
        user,
        amount="12.3",
        currency="usd",
        category="Electronics",
        spent_on="2024-05-17",
        note="cable",
    )
    assert created["amount"] == "12.30"
    assert created["currency"] == "USD"
    assert created["category"] == "Electronics"
    assert created["spent_on"] == "2024-05-17"
    assert created["note"] == "cable"
    uuid.UUID(created["id"])
    assert _get(client, user, f"/{created['id']}") == created


def test_amount_may_be_sent_as_a_json_number(client, user):
    assert _create(client, user, amount=12.3)["amount"] == "12.30"
    assert _create(client, user, amount=7)["amount"] == "7.00"
    assert _create(client, user, amount=0.1)["amount"] == "0.10"


def test_delete_an_expense(client, user):
    expense = _create(client, user)
    path = f"{EXPENSES}/{expense['id']}"
    assert client.delete(path, headers=user.headers).status_code == 204
    assert client.get(path, headers=user.headers).status_code == 404


def test_signed_out_requests_are_refused(client):
    assert client.get(EXPENSES).status_code == 401
    assert client.get(f"{EXPENSES}/summary").status_code == 401
    assert client.post(EXPENSES, json={}).status_code == 401


def test_summary_is_not_taken_for_an_id(client, user):
    assert client.get(f"{EXPENSES}/summary", headers=user.headers).status_code == 200
    assert client.get(f"{EXPENSES}/not-a-uuid", headers=user.headers).status_code == 404


# ---- PATCH -----------------------------------------------------------------------------------


def test_patch_changes_only_the_named_fields(client, user):
    expense = _create(client, user, note="keep", category="Health")
    response = client.patch(
        f"{EXPENSES}/{expense['id']}", json={"amount": "99.9"}, headers=user.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["amount"] == "99.90"
    for unchanged in ("currency", "category", "spent_on", "note"):
        assert body[unchanged] == expense[unchanged]


def test_patch_null_clears_the_note(client, user):
    expense = _create(client, user, note="soon gone")
    body = client.patch(
        f"{EXPENSES}/{expense['id']}", json={"note": None}, headers=user.headers
    ).json()
    assert body["note"] is None
    assert body["amount"] == expense["amount"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": None}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"currency": "ZZZ"}, "currency"),
        ({"category": "Travel"}, "category"),
        ({"spent_on": None}, "spent_on"),
    ],
)
def test_bad_patch_is_422_and_changes_nothing(client, user, body, field):
    expense = _create(client, user)
    path = f"{EXPENSES}/{expense['id']}"
    _problem(client.patch(path, json=body, headers=user.headers), 422, field)
    assert _get(client, user, f"/{expense['id']}") == expense


# ---- isolation ---------------------------------------------------------------------------


def test_another_users_expense_is_invisible(client, user, other_user):
    expense = _create(client, user, amount="55.55")
    path = f"{EXPENSES}/{expense['id']}"
    assert client.get(path, headers=other_user.headers).status_code == 404
    patched = client.patch(path, json={"amount": "1.00"}, headers=other_user.headers)
    assert patched.status_code == 404
    assert client.delete(path, headers=other_user.headers).status_code == 404
    assert _get(client, other_user)["total"] == 0
    assert _get(client, other_user, "/summary")["totals"] == []
    assert _get(client, user, f"/{expense['id']}")["amount"] == "55.55"


# ---- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "12.345"}, "amount"),
        ({"amount": 12.345}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "1000000000.00"}, "amount"),
        ({"amount": "1e30"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"amount": True}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "ABC"}, "currency"),
        ({"category": "groceries"}, "category"),
        ({"spent_on": "2024-02-30"}, "spent_on"),
        ({"note": "x" * 501}, "note"),
        ({"note": "nul \x00 byte"}, "note"),
        ({"extra": 1}, None),
    ],
)
def test_bad_expense_is_422_naming_the_field(client, user, changes, field):
    body = {"amount": "1.00", "currency": "EUR", "category": "Others", "spent_on": "2024-01-01"}
    response = client.post(EXPENSES, json={**body, **changes}, headers=user.headers)
    assert response.status_code == 422, response.text
    if field:
        _problem(response, 422, field)


@pytest.mark.parametrize("missing", ["amount", "currency", "category", "spent_on"])
def test_missing_field_is_named(client, user, missing):
    body = {"amount": "1.00", "currency": "EUR", "category": "Others", "spent_on": "2024-01-01"}
    del body[missing]
    _problem(client.post(EXPENSES, json=body, headers=user.headers), 422, missing)


PERIOD_ERRORS = [
    ({"period": "custom", "end": "2024-01-01"}, "start"),
    ({"period": "custom", "start": "2024-01-01"}, "end"),
    ({"period": "custom", "start": "2024-02-01", "end": "2024-01-01"}, "end"),
    ({"period": "past_week", "start": "2024-01-01"}, "start"),
    ({"start": "2024-01-01", "end": "2024-01-02"}, "period"),
    ({"period": "fortnight"}, "period"),
    ({"period": "custom", "start": "yesterday", "end": "2024-01-01"}, "start"),
]
LIST_ONLY_ERRORS = [
    ({"category": "Travel"}, "category"),
    ({"currency": "ZZZ"}, "currency"),
    ({"page_size": "0"}, "page_size"),
]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [("", p, f) for p, f in PERIOD_ERRORS + LIST_ONLY_ERRORS]
    + [("/summary", p, f) for p, f in PERIOD_ERRORS],
)
def test_bad_query_is_4xx_naming_the_field(client, user, path, params, field):
    response = client.get(EXPENSES + path, params=params, headers=user.headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["field"] == field, response.json()


# ---- filters and pagination ------------------------------------------------------------------


def test_period_filters_use_rolling_windows_including_today(client, user):
    today = _create(client, user, spent_on=_days_ago(0))
    six = _create(client, user, spent_on=_days_ago(6))
    seven = _create(client, user, spent_on=_days_ago(7))
    twenty_nine = _create(client, user, spent_on=_days_ago(29))
    thirty = _create(client, user, spent_on=_days_ago(30))
    eighty_nine = _create(client, user, spent_on=_days_ago(89))
    _create(client, user, spent_on=_days_ago(90))

    def ids(**params):
        return {e["id"] for e in _get(client, user, page_size=100, **params)["items"]}

    assert ids(period="past_week") == {today["id"], six["id"]}
    assert ids(period="last_month") == {today["id"], six["id"], seven["id"], twenty_nine["id"]}
    assert ids(period="last_3_months") == {
        today["id"],
        six["id"],
        seven["id"],
        twenty_nine["id"],
        thirty["id"],
        eighty_nine["id"],
    }
    assert len(ids()) == 7


def test_custom_period_bounds_are_inclusive(client, user):
    first = _create(client, user, spent_on="2023-06-01")
    last = _create(client, user, spent_on="2023-06-30")
    _create(client, user, spent_on="2023-05-31")
    _create(client, user, spent_on="2023-07-01")
    listed = _get(client, user, period="custom", start="2023-06-01", end="2023-06-30")
    assert {e["id"] for e in listed["items"]} == {first["id"], last["id"]}


def test_filter_by_category_and_currency(client, user):
    food = _create(client, user, category="Groceries", currency="EUR")
    fun = _create(client, user, category="Leisure", currency="EUR")
    _create(client, user, category="Health", currency="EUR")
    dollars = _create(client, user, category="Groceries", currency="USD")
    both = _get(client, user, category=["Groceries", "Leisure"])
    assert {e["id"] for e in both["items"]} == {food["id"], fun["id"], dollars["id"]}
    euro_food = _get(client, user, category="Groceries", currency="eur")
    assert [e["id"] for e in euro_food["items"]] == [food["id"]]


def test_list_is_paginated_newest_day_first(client, user):
    created = [_create(client, user, spent_on=_days_ago(days)) for days in range(5)]
    first = _get(client, user, period="last_month", page_size=2)
    assert first["total"] == 5 and first["page"] == 1 and first["page_size"] == 2
    assert first["prev"] is None and "period=last_month" in first["next"]
    seen = [e["id"] for e in first["items"]]
    link = first["next"]
    while link:
        page = client.get(link, headers=user.headers).json()
        seen += [e["id"] for e in page["items"]]
        link = page["next"]
    assert seen == [e["id"] for e in created]


# ---- summary ---------------------------------------------------------------------------------


def test_summary_sums_exactly(client, user):
    _create(client, user, amount="0.10", category="Groceries")
    _create(client, user, amount=0.2, category="Groceries")
    for _ in range(10):
        _create(client, user, amount="0.10", category="Leisure")
    summary = _get(client, user, "/summary", period="past_week")
    [eur] = summary["totals"]
    assert eur["currency"] == "EUR"
    assert eur["by_category"]["Groceries"] == "0.30"
    assert eur["by_category"]["Leisure"] == "1.00"
    assert eur["by_category"]["Health"] == "0.00"
    assert eur["total"] == "1.30"
    assert eur["count"] == 12


def test_summary_never_adds_different_currencies(client, user):
    _create(client, user, amount="10.00", currency="EUR", category="Groceries")
    _create(client, user, amount="2.50", currency="EUR", category="Utilities")
    _create(client, user, amount="1000", currency="JPY", category="Groceries")
    summary = _get(client, user, "/summary")
    assert summary["period"] is None and summary["start"] is None
    totals = {t["currency"]: t for t in summary["totals"]}
    assert set(totals) == {"EUR", "JPY"}
    assert totals["EUR"]["total"] == "12.50"
    assert totals["EUR"]["by_category"]["Utilities"] == "2.50"
    assert totals["JPY"]["total"] == "1000.00"
    assert totals["JPY"]["by_category"]["Groceries"] == "1000.00"


def test_summary_respects_the_period_and_reports_its_bounds(client, user):
    _create(client, user, amount="5.00", spent_on=_days_ago(3))
    _create(client, user, amount="7.00", spent_on=_days_ago(20))
    _create(client, user, amount="11.00", spent_on=_days_ago(60))
    week = _get(client, user, "/summary", period="past_week")
    assert week["period"] == "past_week"
    assert week["start"] == _days_ago(6) and week["end"] == _days_ago(0)
    assert week["totals"][0]["total"] == "5.00"
    month = _get(client, user, "/summary", period="last_month")
    assert month["totals"][0]["total"] == "12.00"
    quarter = _get(client, user, "/summary", period="last_3_months")
    assert quarter["totals"][0]["total"] == "23.00"
    custom = _get(client, user, "/summary", period="custom", start=_days_ago(60), end=_days_ago(20))
    assert custom["totals"][0]["total"] == "18.00"
    assert custom["start"] == _days_ago(60) and custom["end"] == _days_ago(20)


def test_summary_of_large_amounts_stays_exact(client, user):
    for amount in ("999999999.99", "999999999.99", "0.01"):
        _create(client, user, amount=amount, category="Electronics")
    [eur] = _get(client, user, "/summary")["totals"]
    assert eur["total"] == "1999999999.99"
