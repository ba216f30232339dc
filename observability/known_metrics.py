"""The one registry of metric names that the apps do not export themselves.

Dashboards and rules may name a metric only if the running apps export it (the tests scrape a
real `/metrics`), a recording rule defines it, or it is listed here under the exporter that
produces it. Names that later issues will export are in `PLANNED`, clearly apart, so the
dashboards and rules for those issues can be written (and checked) before the code lands.
"""

from __future__ import annotations

from collections.abc import Iterable

# Exporters run beside the platform; names as published by each exporter's current release.
EXTERNAL: dict[str, frozenset[str]] = {
    # danihodovic/celery-exporter (labels: name, hostname, queue_name, exception)
    "celery-exporter": frozenset(
        {
            "celery_task_sent_total",
            "celery_task_received_total",
            "celery_task_started_total",
            "celery_task_succeeded_total",
            "celery_task_failed_total",
            "celery_task_rejected_total",
            "celery_task_revoked_total",
            "celery_task_retried_total",
            "celery_task_runtime_bucket",
            "celery_task_runtime_count",
            "celery_task_runtime_sum",
            "celery_queue_length",
            "celery_active_consumer_count",
            "celery_active_worker_count",
            "celery_active_process_count",
            "celery_worker_up",
            "celery_worker_tasks_active",
        }
    ),
    # oliver006/redis_exporter
    "redis_exporter": frozenset(
        {
            "redis_up",
            "redis_connected_clients",
            "redis_blocked_clients",
            "redis_memory_used_bytes",
            "redis_memory_max_bytes",
            "redis_commands_processed_total",
            "redis_commands_total",
            "redis_commands_duration_seconds_total",
            "redis_keyspace_hits_total",
            "redis_keyspace_misses_total",
            "redis_evicted_keys_total",
            "redis_expired_keys_total",
            "redis_db_keys",
            "redis_uptime_in_seconds",
        }
    ),
    # prometheus-community/postgres_exporter
    "postgres_exporter": frozenset(
        {
            "pg_up",
            "pg_stat_database_numbackends",
            "pg_stat_database_xact_commit",
            "pg_stat_database_xact_rollback",
            "pg_stat_database_blks_hit",
            "pg_stat_database_blks_read",
            "pg_stat_database_deadlocks",
            "pg_stat_database_tup_fetched",
            "pg_stat_database_tup_inserted",
            "pg_stat_database_tup_updated",
            "pg_stat_database_tup_deleted",
            "pg_settings_max_connections",
            "pg_database_size_bytes",
            "pg_locks_count",
        }
    ),
    # prometheus/node_exporter
    "node_exporter": frozenset(
        {
            "node_cpu_seconds_total",
            "node_load1",
            "node_memory_MemAvailable_bytes",
            "node_memory_MemTotal_bytes",
            "node_filesystem_avail_bytes",
            "node_filesystem_size_bytes",
            "node_network_receive_bytes_total",
            "node_network_transmit_bytes_total",
        }
    ),
    # nginxinc/nginx-prometheus-exporter (stub_status of the nginx edges)
    "nginx-prometheus-exporter": frozenset(
        {
            "nginx_up",
            "nginx_connections_active",
            "nginx_connections_accepted",
            "nginx_connections_handled",
            "nginx_http_requests_total",
        }
    ),
    # loadtests/exporter.py: the harness's own exporter inside the Locust process
    "locust (loadtests/exporter.py)": frozenset(
        {
            "locust_up",
            "locust_users",
            "locust_cpu_percent",
            "locust_requests_total",
            "locust_failures_total",
            "locust_requests_per_second",
            "locust_response_time_seconds",
        }
    ),
    # apps/cdn/exporter.py inside `stackyard cdn up`: tails the nginx edges' access logs
    # (labels: edge, cache = hit|miss|expired|stale|updating|revalidated|bypass|none)
    "cdn exporter (apps/cdn/exporter.py)": frozenset(
        {
            "stackyard_cdn_requests_total",
            "stackyard_cdn_bytes_served_total",
            "stackyard_cdn_origin_fetch_seconds_bucket",
            "stackyard_cdn_origin_fetch_seconds_count",
            "stackyard_cdn_origin_fetch_seconds_sum",
            "stackyard_cdn_edge_up",
        }
    ),
    # Prometheus itself: series every scrape produces
    "prometheus": frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"}),
}

# APPS: names apps export from their own modules (not in the kernel-only app the observability
# tests scrape); each app's tests check its names against its real /metrics.
APPS: dict[str, frozenset[str]] = {
    # apps/leaderboard: accepted scores (labels: game), rank-query latency (labels: board),
    # live WebSocket clients
    "apps/leaderboard": frozenset(
        {
            "stackyard_leaderboard_scores_submitted_total",
            "stackyard_leaderboard_rank_query_seconds_bucket",
            "stackyard_leaderboard_rank_query_seconds_count",
            "stackyard_leaderboard_rank_query_seconds_sum",
            "stackyard_leaderboard_live_clients",
        }
    ),
}

# PLANNED: names the CDN issue will export from its app. They are declared here first so the
# recording rules and dashboards for them exist now; the issue that lands the code must export
# exactly these (or change them here, and the tests say what else to change).
PLANNED: dict[str, frozenset[str]] = {}


def declared_names(
    groups: Iterable[dict[str, frozenset[str]]] = (EXTERNAL, APPS, PLANNED),
) -> set[str]:
    """Every metric name declared by an exporter here, planned ones included."""
    return {name for group in groups for names in group.values() for name in names}
