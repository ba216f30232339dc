"""The leaderboard: submissions, read and rank-query latency, Redis load and live clients."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from observability.grafana.panels import RATE, Query, base, graph, single_stat

UID = "stackyard-leaderboard"
READS = 'service="leaderboard",method="GET"'


def build() -> dashboard.Dashboard:
    return (
        base(
            UID,
            "Stackyard leaderboard",
            ["leaderboard", "redis"],
            "Score intake, board reads from Redis, rank queries, Redis load and live sockets.",
        )
        .with_row(dashboard.Row("Now"))
        .with_panel(
            single_stat(
                "Submissions/s",
                Query("stackyard_leaderboard_scores_submitted:rate5m"),
                unit="reqps",
            )
        )
        .with_panel(
            single_stat(
                "Rank query p95",
                Query(
                    "histogram_quantile(0.95, sum by (le) "
                    f"(rate(stackyard_leaderboard_rank_query_seconds_bucket[{RATE}])))"
                ),
                unit="s",
            )
        )
        .with_panel(
            single_stat("Live WebSocket clients", Query("sum(stackyard_leaderboard_live_clients)"))
        )
        .with_panel(
            single_stat(
                "Redis commands/s",
                Query(f"sum(rate(redis_commands_processed_total[{RATE}]))"),
                unit="ops",
            )
        )
        .with_row(dashboard.Row("Submissions"))
        .with_panel(
            graph(
                "Accepted submissions/s by game",
                Query(
                    f"sum by (game) (rate(stackyard_leaderboard_scores_submitted_total[{RATE}]))",
                    "{{game}}",
                ),
                unit="reqps",
                stacked=True,
            )
        )
        .with_panel(
            graph(
                "Submission answers/s by status",
                Query(
                    "sum by (status_code) (rate(stackyard_requests_total{"
                    'service="leaderboard",method="POST"}'
                    f"[{RATE}]))",
                    "{{status_code}}",
                ),
                unit="reqps",
                description="429 = rate limited, 422 = implausible score, 503 = store down.",
            )
        )
        .with_row(dashboard.Row("Reads"))
        .with_panel(
            graph(
                "Read latency p95 by route",
                Query(
                    "histogram_quantile(0.95, sum by (path, le) "
                    f"(rate(stackyard_request_duration_seconds_bucket{{{READS}}}[{RATE}])))",
                    "{{path}}",
                ),
                unit="s",
            )
        )
        .with_panel(
            graph(
                "Rank query latency (Redis script)",
                Query(
                    "histogram_quantile(0.5, sum by (le) "
                    f"(rate(stackyard_leaderboard_rank_query_seconds_bucket[{RATE}])))",
                    "p50",
                ),
                Query(
                    "histogram_quantile(0.99, sum by (le) "
                    f"(rate(stackyard_leaderboard_rank_query_seconds_bucket[{RATE}])))",
                    "p99",
                ),
                unit="s",
            )
        )
        .with_row(dashboard.Row("Redis and live"))
        .with_panel(
            graph(
                "Redis ops/s by command",
                Query(
                    "sum by (cmd) (rate(redis_commands_total{cmd=~"
                    '"evalsha|zadd|zrevrange|zrevrank|incr|expire|set|exists|publish"}'
                    f"[{RATE}]))",
                    "{{cmd}}",
                ),
                unit="ops",
                description="From redis_exporter; EVALSHA carries the board updates and reads.",
            )
        )
        .with_panel(
            graph(
                "Live WebSocket clients",
                Query("sum(stackyard_leaderboard_live_clients)", "clients"),
            )
        )
    )
