"""Prometheus config and rules, Grafana dashboards built from Python, and the local runtime.

Importable from the repository root (the editable install puts it on `sys.path`); the
`stackyard observe` command and the load-test harness use it.
"""
