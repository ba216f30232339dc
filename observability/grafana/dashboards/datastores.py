"""Redis and Postgres basics: up, load, memory and connections, cache hit ratios."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from observability.grafana.panels import RATE, Query, base, graph, single_stat

UID = "stackyard-datastores"


def build() -> dashboard.Dashboard:
    return (
        base(UID, "Stackyard Redis and Postgres", ["redis", "postgres"], "Datastore basics.")
        .with_row(dashboard.Row("Redis"))
        .with_panel(single_stat("Redis up", Query("min(redis_up)")))
        .with_panel(
            single_stat(
                "Commands/s",
                Query(f"sum(rate(redis_commands_processed_total[{RATE}]))"),
                unit="ops",
            )
        )
        .with_panel(single_stat("Clients", Query("sum(redis_connected_clients)")))
        .with_panel(
            single_stat(
                "Keyspace hit ratio",
                Query(
                    f"sum(rate(redis_keyspace_hits_total[{RATE}])) / ("
                    f"sum(rate(redis_keyspace_hits_total[{RATE}])) + "
                    f"sum(rate(redis_keyspace_misses_total[{RATE}])))"
                ),
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "Redis commands/s by command",
                Query(f"topk(8, sum by (cmd) (rate(redis_commands_total[{RATE}])))", "{{cmd}}"),
                unit="ops",
            )
        )
        .with_panel(
            graph(
                "Redis memory",
                Query("sum by (instance) (redis_memory_used_bytes)", "used {{instance}}"),
                Query("sum by (instance) (redis_memory_max_bytes)", "max {{instance}}"),
                unit="bytes",
            )
        )
        .with_panel(
            graph(
                "Redis evictions and expiries",
                Query(f"sum(rate(redis_evicted_keys_total[{RATE}]))", "evicted"),
                Query(f"sum(rate(redis_expired_keys_total[{RATE}]))", "expired"),
                unit="ops",
                description="Evictions on the broker database lose tasks: it must be noeviction.",
            )
        )
        .with_panel(graph("Keys per database", Query("sum by (db) (redis_db_keys)", "{{db}}")))
        .with_row(dashboard.Row("Postgres"))
        .with_panel(single_stat("Postgres up", Query("min(pg_up)")))
        .with_panel(
            single_stat(
                "Connections used",
                Query("sum(pg_stat_database_numbackends) / max(pg_settings_max_connections)"),
                unit="percentunit",
            )
        )
        .with_panel(
            single_stat(
                "Transactions/s",
                Query(f"sum(rate(pg_stat_database_xact_commit[{RATE}]))"),
                unit="ops",
            )
        )
        .with_panel(
            single_stat(
                "Buffer cache hit ratio",
                Query(
                    f"sum(rate(pg_stat_database_blks_hit[{RATE}])) / ("
                    f"sum(rate(pg_stat_database_blks_hit[{RATE}])) + "
                    f"sum(rate(pg_stat_database_blks_read[{RATE}])))"
                ),
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "Backends by database",
                Query("sum by (datname) (pg_stat_database_numbackends)", "{{datname}}"),
            )
        )
        .with_panel(
            graph(
                "Commits, rollbacks and deadlocks",
                Query(f"sum(rate(pg_stat_database_xact_commit[{RATE}]))", "commit"),
                Query(f"sum(rate(pg_stat_database_xact_rollback[{RATE}]))", "rollback"),
                Query(f"sum(rate(pg_stat_database_deadlocks[{RATE}]))", "deadlock"),
                unit="ops",
            )
        )
        .with_panel(
            graph(
                "Rows written/s",
                Query(f"sum(rate(pg_stat_database_tup_inserted[{RATE}]))", "inserted"),
                Query(f"sum(rate(pg_stat_database_tup_updated[{RATE}]))", "updated"),
                Query(f"sum(rate(pg_stat_database_tup_deleted[{RATE}]))", "deleted"),
                unit="ops",
            )
        )
        .with_panel(
            graph(
                "Database size",
                Query("sum by (datname) (pg_database_size_bytes)", "{{datname}}"),
                unit="bytes",
            )
        )
    )
