"""Defaults for every host of every environment."""

# How pyinfra reaches the nodes: "ssm" tunnels SSH through AWS Session Manager to the
# instance id (the nodes have no public SSH), "direct" connects to the address.
ssh_via = "ssm"
ssh_user = "ubuntu"
# Hosts are real machines under systemd; image builds and the chroot tests set False, and the
# roles then only write and enable units instead of (re)starting them.
systemd_running = True

# base: admin accounts (name, ssh public keys), all in the `sudo` group.
admin_users: list[dict] = []
ssh_port = 22
time_servers = ["169.254.169.123"]  # the Amazon Time Sync Service, reachable from every VPC
fallback_time_servers = ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org"]
unattended_upgrades_reboot = False
node_exporter_listen = ":9100"

# app / worker: the release installed into /opt/stackyard/venv. `stackyard deploy` builds a
# wheel of this checkout and sets `stackyard_wheel`; without one, the version comes from the index.
stackyard_version = "0.1.0"
stackyard_wheel = ""
pip_index_url = ""
app_port = 8000
app_workers = 2
app_server = "granian"
app_only: list[str] = []  # `serve --app ...`; empty serves every app
app_env: dict[str, str] = {}
worker_concurrency = 2

# self-hosted data stores (environments without RDS / ElastiCache)
postgres_version = "15"
postgres_database = "stackyard"
postgres_user = "stackyard"
postgres_max_connections = 200
# A PostgreSQL server started outside systemd (an image build's temporary server, the chroot
# tests): its unix socket folder and port. When set, the role creates the application role and
# database through it even with systemd_running False; empty: the packaged cluster's defaults.
postgres_admin_socket = ""
postgres_admin_port = 5432
redis_cache_port = 6379
redis_broker_port = 6380
redis_cache_maxmemory = "256mb"

# observability
prometheus_retention = "15d"
grafana_admin_user = "admin"
grafana_port = 3000
grafana_apt_repo = "https://apt.grafana.com"
grafana_install = True

# sandbox: runner root filesystems (name, path of a tarball on the deploying machine)
sandbox_runners: list[dict] = []
