"""Production: more server workers and Celery concurrency, longer retention."""

app_workers = 4
worker_concurrency = 4
prometheus_retention = "30d"
unattended_upgrades_reboot = False  # reboots are rolled by the auto-scaling group, not cron
app_env = {"STACKYARD_ENV": "prod"}
