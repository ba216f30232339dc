"""Development: smallest footprint, one server worker process per app node."""

app_workers = 1
worker_concurrency = 1
prometheus_retention = "3d"
app_env = {"STACKYARD_ENV": "dev"}
