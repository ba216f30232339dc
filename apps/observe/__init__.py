"""Observability: a local Prometheus on the project's rules, dashboard snapshots without Grafana.

Command-line only (no `router`); config, rules and dashboards live in observability/.
"""
