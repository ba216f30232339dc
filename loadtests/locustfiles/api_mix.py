"""api-mix: a realistic day on the foundation's apps.

Each simulated user signs up and signs in once, then mostly reads (browses and filters blog
articles, lists its tasks and expenses) and sometimes writes (creates and completes tasks,
adds expenses), with a think time of one to three seconds. Requests are named by route
template so Locust's table lines up with the server's `path` label.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from locust import HttpUser, between, task

PASSWORD = "a long enough passphrase"
CATEGORIES = ["Groceries", "Leisure", "Electronics", "Utilities", "Clothing", "Health", "Others"]
PERIODS = ["past_week", "last_month", "last_3_months"]


class PlatformUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.tags: list[str] = []
        self.article_ids: list[str] = []
        self.task_ids: list[str] = []
        email = f"load-{uuid.uuid4().hex[:16]}@example.com"
        self.client.post(
            "/auth/signup",
            json={"email": email, "password": PASSWORD, "display_name": "Load User"},
            name="/auth/signup",
        )
        with self.client.post(
            "/auth/login",
            json={"email": email, "password": PASSWORD},
            name="/auth/login",
            catch_response=True,
        ) as response:
            token = _json(response).get("access_token")
            if not token:
                response.failure(f"no access_token in login answer ({response.status_code})")
                return
            self.client.headers["Authorization"] = f"Bearer {token}"
        self.client.cookies.clear()

    @task(6)
    def browse_articles(self) -> None:
        page = random.choice([1, 1, 1, 2])
        with self.client.get(
            f"/blog/articles?page={page}", name="/blog/articles", catch_response=True
        ) as response:
            self._remember_articles(response)

    @task(3)
    def filter_articles_by_tag(self) -> None:
        if not self.tags:
            with self.client.get("/blog/tags", name="/blog/tags", catch_response=True) as response:
                body = _json(response)
                items = body.get("items", body) if isinstance(body, dict) else body
                self.tags = [
                    str(item.get("slug") or item.get("name"))
                    for item in items or []
                    if isinstance(item, dict) and (item.get("slug") or item.get("name"))
                ]
            if not self.tags:
                return
        tag = random.choice(self.tags)
        with self.client.get(
            f"/blog/articles?tag={tag}", name="/blog/articles?tag=", catch_response=True
        ) as response:
            self._remember_articles(response)

    @task(2)
    def read_article(self) -> None:
        if not self.article_ids:
            return
        self.client.get(
            f"/blog/articles/{random.choice(self.article_ids)}", name="/blog/articles/{id}"
        )

    @task(3)
    def create_task(self) -> None:
        due = date.today() + timedelta(days=random.randint(1, 14))
        with self.client.post(
            "/todo/tasks",
            json={
                "title": f"Load task {uuid.uuid4().hex[:8]}",
                "priority": random.choice(["low", "medium", "high"]),
                "due_at": f"{due.isoformat()}T17:00:00Z",
            },
            name="/todo/tasks [create]",
            catch_response=True,
        ) as response:
            task_id = _json(response).get("id")
            if task_id:
                self.task_ids.append(str(task_id))

    @task(3)
    def list_open_tasks(self) -> None:
        self.client.get("/todo/tasks?status=todo", name="/todo/tasks")

    @task(1)
    def complete_task(self) -> None:
        if not self.task_ids:
            return
        task_id = self.task_ids.pop(random.randrange(len(self.task_ids)))
        self.client.patch(
            f"/todo/tasks/{task_id}", json={"status": "done"}, name="/todo/tasks/{id}"
        )

    @task(2)
    def add_expense(self) -> None:
        spent_on = date.today() - timedelta(days=random.randint(0, 60))
        self.client.post(
            "/expenses",
            json={
                "amount": f"{random.randint(1, 20000) / 100:.2f}",
                "currency": "EUR",
                "category": random.choice(CATEGORIES),
                "spent_on": spent_on.isoformat(),
                "note": "load test",
            },
            name="/expenses [create]",
        )

    @task(2)
    def review_expenses(self) -> None:
        period = random.choice(PERIODS)
        self.client.get(f"/expenses?period={period}", name="/expenses")
        self.client.get(f"/expenses/summary?period={period}", name="/expenses/summary")

    def _remember_articles(self, response: Any) -> None:
        body = _json(response)
        items = body.get("items", []) if isinstance(body, dict) else []
        ids = [str(item["id"]) for item in items if isinstance(item, dict) and "id" in item]
        if ids:
            self.article_ids = ids[:20]


def _json(response: Any) -> Any:
    try:
        return response.json() if response.content else {}
    except ValueError:
        return {}
