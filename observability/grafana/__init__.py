"""Grafana dashboards generated from Python, and the provisioning that loads them.

Dashboards are built with grafana-foundation-sdk (Grafana Labs' typed builders) in
`dashboards/<name>.py`, one module per dashboard, and written as JSON models to `json/`.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_UID = "stackyard-prometheus"
"""The provisioned Prometheus datasource's uid; every panel names it (never `${DS_...}`)."""


def datasource() -> DataSourceRef:
    return DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
