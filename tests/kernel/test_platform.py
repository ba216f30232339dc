"""Health, readiness, metrics, OpenAPI and problem documents of the platform itself."""

from __future__ import annotations

import json
import logging


def test_health_answers(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_ready_checks_database_and_redis(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_openapi_schema_and_swagger_are_served(client):
    schema = client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/auth/login" in paths
    assert client.get("/schema/swagger").status_code == 200


def test_metrics_are_labelled_by_route_template(client, user):
    client.get(f"/auth/sessions/{user.id}")  # a raw path that must not become a label
    client.get("/auth/me", headers=user.headers)
    text = client.get("/metrics").text
    assert 'path="/auth/me"' in text
    assert "stackyard_requests_total" in text
    assert "stackyard_request_duration_seconds_bucket" in text
    assert "stackyard_requests_in_progress" in text
    assert user.id not in text


def test_unknown_path_is_a_problem_document(client):
    response = client.get("/no-such-app/anything")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_wrong_method_is_405_problem(client):
    response = client.delete("/auth/login")
    assert response.status_code == 405
    assert response.json()["status"] == 405


def test_each_request_logs_one_json_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="stackyard.access"):
        response = client.get("/health", headers={"X-Request-ID": "req-123"})
    assert response.headers["x-request-id"] == "req-123"
    records = [r for r in caplog.records if r.name == "stackyard.access"]
    assert len(records) == 1
    fields = records[0].fields
    assert fields["request_id"] == "req-123"
    assert fields["route"] == "/health"
    assert fields["status"] == 200
    from apps.kernel.logging import JsonFormatter

    line = json.loads(JsonFormatter().format(records[0]))
    assert line["latency_ms"] >= 0


def test_cors_allows_only_configured_origins(stack, monkeypatch):
    from litestar.testing import TestClient

    from apps.gateway import create_app
    from apps.kernel.settings import load_settings

    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.com")
    app = create_app([], settings=load_settings())
    with TestClient(app) as cors_client:
        preflight = {"Access-Control-Request-Method": "POST"}
        allowed = cors_client.options(
            "/auth/login", headers={"Origin": "https://app.example.com", **preflight}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        other = cors_client.options(
            "/auth/login", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers


def test_a_server_worker_keeps_what_startup_built_out_of_the_cyclic_collector(stack, monkeypatch):
    import gc

    from apps.gateway import create_app_from_env

    monkeypatch.setenv("STACKYARD_APPS", "todo")
    frozen_before = gc.get_freeze_count()
    try:
        app = create_app_from_env()
        assert gc.get_freeze_count() > frozen_before
        # The app itself is frozen: a full collection no longer walks it.
        assert not any(obj is app for obj in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()
