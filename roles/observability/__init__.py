"""The observability node: Prometheus with the project's rules, Grafana with its dashboards.

Rules come from `observability/prometheus/rules/` and dashboards from
`observability/grafana/json/` as committed; the scrape jobs are the fleet's: by EC2 tags when
the stack gives `scrape_tags` (auto-scaling members come and go), else the fleet's addresses.
With `mode: managed` the samples are also remote-written to Amazon Managed Prometheus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server

from roles import units

HERE = Path(__file__).resolve().parent
OBSERVABILITY = Path(__file__).resolve().parents[2] / "observability"
RULES = OBSERVABILITY / "prometheus" / "rules"
DASHBOARDS = OBSERVABILITY / "grafana" / "json"
DASHBOARDS_PROVIDER = OBSERVABILITY / "grafana" / "provisioning" / "dashboards" / "stackyard.yml"
GRAFANA_DASHBOARDS = "/var/lib/grafana/dashboards/stackyard"
GRAFANA_KEYRING = "/etc/apt/keyrings/grafana.asc"


def rule_files() -> list[Path]:
    return sorted(RULES.glob("*.yml"))


def scrape_jobs(data: Any) -> list[dict[str, Any]]:
    """Static scrape jobs from the fleet: the apps, every node's node_exporter, the edges."""
    fleet = data.get("fleet", {})
    port = int(data.get("app_port", 8000))
    every = [h for hosts in fleet.values() for h in hosts]
    jobs = [
        {
            "job": "stackyard-apps",
            "targets": [f"{h['private_ip']}:{port}" for h in fleet.get("app", [])],
        },
        {"job": "node", "targets": [f"{h['private_ip']}:9100" for h in every]},
        {"job": "prometheus", "targets": ["127.0.0.1:9090"]},
    ]
    return [job for job in jobs if job["targets"]]


def prometheus_context(data: Any) -> dict[str, Any]:
    tags = data.get("scrape_tags") or {}
    return {
        "environment": data.get("environment", ""),
        "rule_files": [f"/etc/prometheus/rules/{path.name}" for path in rule_files()],
        "jobs": scrape_jobs(data),
        "ec2": {
            "region": data.get("region") or data.get("stack", {}).get("region", ""),
            "tags": tags,
        }
        if tags
        else None,
        "app_port": int(data.get("app_port", 8000)),
        "remote_write": data.get("remote_write", "") if data.get("mode") == "managed" else "",
    }


@deploy("observability")
def observability() -> None:
    _prometheus()
    _grafana()


def _prometheus() -> None:
    apt.packages(
        name="Prometheus",
        packages=["prometheus"],
        update=True,
        cache_time=3600,
        no_recommends=True,
    )
    changes = [
        files.put(
            name=f"Rules {path.name}",
            src=str(path),
            dest=f"/etc/prometheus/rules/{path.name}",
            mode="644",
        )
        for path in rule_files()
    ]
    changes.append(
        files.template(
            name="Prometheus configuration",
            src=str(HERE / "prometheus.yml.j2"),
            dest="/etc/prometheus/prometheus.yml",
            mode="644",
            **prometheus_context(host.data),
        )
    )
    changes.append(
        files.template(
            name="Prometheus flags",
            src=str(HERE / "prometheus.default.j2"),
            dest="/etc/default/prometheus",
            mode="644",
            retention=host.data.get("prometheus_retention", "15d"),
        )
    )
    server.shell(
        name="Check the configuration and rules (promtool)",
        commands=["promtool check config /etc/prometheus/prometheus.yml"],
        _if=lambda: any(change.did_change() for change in changes),
    )
    units.running(
        "prometheus.service", unit_path="/lib/systemd/system/prometheus.service", restart_on=changes
    )


def _grafana() -> None:
    if host.data.get("grafana_install", True):
        files.directory(name="Keyrings folder", path="/etc/apt/keyrings", mode="755")
        files.download(
            name="Grafana's package signing key",
            src=f"{host.data.get('grafana_apt_repo')}/gpg.key",
            dest=GRAFANA_KEYRING,
            mode="644",
        )
        apt.sources_file(
            name="Grafana's package repository",
            filename="grafana",
            uris=host.data.get("grafana_apt_repo"),
            suites="stable",
            components="main",
            signed_by=GRAFANA_KEYRING,
        )
        apt.packages(name="Grafana", packages=["grafana"], update=True, cache_time=3600)
    changes = [
        files.template(
            name="Grafana datasource: the local Prometheus (uid stackyard-prometheus)",
            src=str(HERE / "grafana-datasource.yml.j2"),
            dest="/etc/grafana/provisioning/datasources/stackyard.yml",
            mode="644",
        ),
        files.put(
            name="Grafana dashboards provider",
            src=str(DASHBOARDS_PROVIDER),
            dest="/etc/grafana/provisioning/dashboards/stackyard.yml",
            mode="644",
        ),
        files.template(
            name="Grafana server settings",
            src=str(HERE / "grafana-server.conf.j2"),
            dest="/etc/systemd/system/grafana-server.service.d/stackyard.conf",
            mode="644",
            port=int(host.data.get("grafana_port", 3000)),
            admin_user=host.data.get("grafana_admin_user", "admin"),
        ),
    ]
    changes += [
        files.put(
            name=f"Dashboard {path.stem}",
            src=str(path),
            dest=f"{GRAFANA_DASHBOARDS}/{path.name}",
            mode="644",
        )
        for path in sorted(DASHBOARDS.glob("*.json"))
    ]
    if host.data.get("grafana_install", True):
        units.daemon_reload_if(changes[2:3])
        units.running(
            "grafana-server.service",
            unit_path="/lib/systemd/system/grafana-server.service",
            restart_on=changes,
        )
