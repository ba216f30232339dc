"""The Prometheus config, rules and Alertmanager config are valid, and the alerts behave."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from observability import known_metrics, runtime
from observability.promql import metric_names
from tests.observability.tools import binary, exported_names, run

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "observability" / "prometheus"
RULES = [PROM / "rules" / "recording.yml", PROM / "rules" / "alerts.yml"]
ALERTMANAGER = ROOT / "observability" / "alertmanager" / "alertmanager.yml"


def _rules(path: Path) -> list[dict]:
    return [rule for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]


def test_committed_prometheus_config_passes_promtool() -> None:
    result = run(binary("promtool"), "check", "config", PROM / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout


def test_config_scrapes_apps_celery_edges_nodes_and_locust() -> None:
    jobs = {
        job["job_name"]
        for job in yaml.safe_load((PROM / "prometheus.yml").read_text())["scrape_configs"]
    }
    assert {"stackyard-apps", "celery", "nginx-edges", "node", "locust"} <= jobs


def test_runtime_config_keeps_only_real_targets_and_passes_promtool(tmp_path: Path) -> None:
    config = runtime.render_config(
        apps=["http://127.0.0.1:8123"],
        locust=["127.0.0.1:9700"],
        extra={"redis": ["127.0.0.1:9121"]},
        listen="127.0.0.1:9099",
        scrape_interval="2s",
    )
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert targets == {
        "stackyard-apps": ["127.0.0.1:8123"],
        "redis": ["127.0.0.1:9121"],
        "locust": ["127.0.0.1:9700"],
        "prometheus": ["127.0.0.1:9099"],
    }
    assert config["global"]["scrape_interval"] == "2s"
    path = runtime.write_config(tmp_path, config)
    result = run(binary("promtool"), "check", "config", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runtime_config_refuses_an_unknown_job() -> None:
    with pytest.raises(ValueError, match="unknown job 'memcached'"):
        runtime.render_config(apps=["127.0.0.1:8000"], extra={"memcached": ["127.0.0.1:9150"]})


def test_rules_pass_promtool_check() -> None:
    result = run(binary("promtool"), "check", "rules", *RULES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_alert_logic_unit_tests_pass() -> None:
    tests = sorted((PROM / "rules" / "tests").glob("*_test.yml"))
    assert len(tests) >= 2
    result = run(binary("promtool"), "test", "rules", *tests, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_severity_and_a_runbook_that_exists() -> None:
    for rule in _rules(PROM / "rules" / "alerts.yml"):
        labels = rule["labels"]
        assert labels["severity"] in {"page", "ticket"}, rule["alert"]
        runbook = ROOT / labels["runbook_url"]
        assert runbook.is_file(), f"{rule['alert']}: {runbook} missing"
        assert "## " not in runbook.read_text() or len(runbook.read_text()) > 200


def test_slo_alerts_cover_availability_and_latency_per_app_with_two_windows() -> None:
    alerts = {rule["alert"]: rule for rule in _rules(PROM / "rules" / "alerts.yml")}
    for slo in ("Availability", "Latency"):
        for speed, severity in (("Fast", "page"), ("Slow", "ticket")):
            rule = alerts[f"{slo}BudgetBurn{speed}"]
            assert rule["labels"]["severity"] == severity
            words = rule["expr"].split()
            assert words.count("and") == 2 and words.count("or") == 1, rule["alert"]


def test_rules_name_only_metrics_that_exist() -> None:
    recorded = {rule["record"] for rule in _rules(RULES[0])}
    allowed = exported_names() | known_metrics.declared_names() | recorded
    for path in RULES:
        for rule in _rules(path):
            unknown = metric_names(rule["expr"]) - allowed
            assert not unknown, f"{path.name} {rule.get('record') or rule.get('alert')}: {unknown}"


def test_alertmanager_config_passes_amtool_and_routes_by_severity() -> None:
    result = run(binary("amtool", "prometheus-alertmanager"), "check-config", ALERTMANAGER)
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(ALERTMANAGER.read_text())
    routes = {tuple(route["matchers"]): route["receiver"] for route in config["route"]["routes"]}
    assert routes[('severity="page"',)] == "on-call"
    assert routes[('severity="ticket"',)] == "team-mailbox"
    on_call = next(r for r in config["receivers"] if r["name"] == "on-call")
    assert "/notifications/" in on_call["webhook_configs"][0]["url"]
    assert on_call["email_configs"]
