"""Dashboards: the committed JSON is fresh and well-formed; every query parses and is real."""

from __future__ import annotations

from pathlib import Path

import yaml

from observability import known_metrics
from observability.grafana import DATASOURCE_UID, dashboards
from observability.promql import metric_names, substitute_variables
from tests.observability.tools import binary, exported_names, run

ROOT = Path(__file__).resolve().parents[2]
PROVISIONING = ROOT / "observability" / "grafana" / "provisioning"


def _recorded() -> set[str]:
    path = ROOT / "observability" / "prometheus" / "rules" / "recording.yml"
    return {r["record"] for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"]}


def test_the_four_foundation_dashboards_exist() -> None:
    assert {"platform", "celery", "datastores", "loadtest"} <= set(dashboards.names())


def test_committed_json_matches_the_python_that_generates_it() -> None:
    stale = [
        name for name in dashboards.names() if dashboards.committed(name) != dashboards.render(name)
    ]
    assert not stale, f"stale dashboards {stale}: run `stackyard observe dashboards` and commit"
    committed = {path.stem for path in dashboards.JSON_DIR.glob("*.json")}
    assert committed == set(dashboards.names()), "a JSON file has no module (or the reverse)"


def test_dashboards_have_stable_unique_uids_and_no_id_or_version() -> None:
    uids = []
    for name in dashboards.names():
        model = dashboards.committed(name)
        assert "id" not in model and "version" not in model, name
        assert model["uid"] == dashboards.module(name).UID == f"stackyard-{name}"
        uids.append(model["uid"])
        panel_ids = [p["id"] for p in model["panels"]]
        assert len(panel_ids) == len(set(panel_ids)), name
    assert len(uids) == len(set(uids))


def test_every_panel_and_query_names_the_provisioned_datasource() -> None:
    provisioned = yaml.safe_load((PROVISIONING / "datasources" / "stackyard.yml").read_text())
    assert provisioned["datasources"][0]["uid"] == DATASOURCE_UID
    for name in dashboards.names():
        for panel in dashboards.committed(name)["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == DATASOURCE_UID
                assert "${DS_" not in target["expr"]


def test_dashboard_provider_points_grafana_at_a_folder() -> None:
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "stackyard.yml").read_text())
    options = provider["providers"][0]["options"]
    assert provider["providers"][0]["type"] == "file"
    assert options["path"].startswith("/")


def test_every_query_parses_in_promtool(tmp_path: Path) -> None:
    rules = []
    for name in dashboards.names():
        for index, (title, ref, expr) in enumerate(dashboards.queries(dashboards.committed(name))):
            rules.append(
                {
                    "record": f"dashboard_check:{name}_{index}",
                    "expr": substitute_variables(expr),
                    "labels": {"panel": f"{title} {ref}"},
                }
            )
    assert len(rules) > 40
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = run(binary("promtool"), "check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_query_names_only_metrics_that_exist() -> None:
    allowed = exported_names() | known_metrics.declared_names() | _recorded()
    for name in dashboards.names():
        for title, _ref, expr in dashboards.queries(dashboards.committed(name)):
            unknown = metric_names(expr) - allowed
            assert not unknown, f"{name} / {title}: {unknown} is exported by nothing declared"


def test_platform_dashboard_shows_red_for_every_app_from_real_metrics() -> None:
    exprs = " ".join(e for _t, _r, e in dashboards.queries(dashboards.committed("platform")))
    for metric in ("stackyard_requests_total", "stackyard_request_duration_seconds_bucket"):
        assert metric in exported_names()
        assert metric in exprs
    assert "by (service)" in exprs and "by (method, path" in exprs
