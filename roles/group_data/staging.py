"""Staging: production's shape at a smaller size."""

app_workers = 2
worker_concurrency = 2
prometheus_retention = "7d"
app_env = {"STACKYARD_ENV": "staging"}
