"""A non-AWS environment (own VMs, lab, CI): HAProxy replaces the ALB, PostgreSQL and Redis run
on the nodes instead of RDS / ElastiCache, and SSH goes straight to the addresses.

Its stack outputs carry `lb`, `postgres` and `redis` host lists beside the usual ones.
"""

ssh_via = "direct"
ssh_user = "root"
time_servers = ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org"]
app_workers = 2
app_env = {"STACKYARD_ENV": "local"}
