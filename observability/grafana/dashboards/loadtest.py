"""The load-test run: what Locust sent and saw, beside what the servers measured."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from observability.grafana.panels import RATE, Query, base, graph, single_stat, variable

UID = "stackyard-loadtest"
SEL = 'scenario=~"$scenario"'


def build() -> dashboard.Dashboard:
    return (
        base(
            UID,
            "Stackyard load test",
            ["loadtest", "locust"],
            "A `stackyard loadtest` run: Locust's view (left) and the servers' view (right).",
        )
        .time("now-15m", "now")
        .refresh("5s")
        .with_variable(variable("scenario", "Scenario", "label_values(locust_users, scenario)"))
        .with_row(dashboard.Row("Run"))
        .with_panel(single_stat("Users", Query(f"sum(locust_users{{{SEL}}})")))
        .with_panel(
            single_stat(
                "Requests/s (Locust)",
                Query(f'sum(locust_requests_per_second{{{SEL},name="Aggregated"}})'),
                unit="reqps",
            )
        )
        .with_panel(
            single_stat(
                "Failures",
                Query(f'sum(locust_failures_total{{{SEL},name="Aggregated"}})'),
            )
        )
        .with_panel(
            single_stat(
                "Locust CPU",
                Query(f"max(locust_cpu_percent{{{SEL}}}) / 100"),
                unit="percentunit",
                description="Above 90 % the numbers measure the load generator, not the server.",
            )
        )
        .with_row(dashboard.Row("Throughput"))
        .with_panel(
            graph(
                "Requests/s by request (Locust)",
                Query(
                    f"sum by (method, name) "
                    f'(rate(locust_requests_total{{{SEL},name!="Aggregated"}}[{RATE}]))',
                    "{{method}} {{name}}",
                ),
                unit="reqps",
            )
        )
        .with_panel(
            graph(
                "Requests/s by app (server)",
                Query(f"sum by (service) (rate(stackyard_requests_total[{RATE}]))", "{{service}}"),
                unit="reqps",
            )
        )
        .with_row(dashboard.Row("Latency"))
        .with_panel(
            graph(
                "Response time percentiles (Locust)",
                Query(
                    f'max by (quantile) (locust_response_time_seconds{{{SEL},name="Aggregated"}})',
                    "p{{quantile}}",
                ),
                unit="s",
                description="Locust's current percentiles (a rolling window of ~10 s).",
            )
        )
        .with_panel(
            graph(
                "Latency p50 / p95 (server)",
                Query(
                    "histogram_quantile(0.5, sum by (le) "
                    f"(rate(stackyard_request_duration_seconds_bucket[{RATE}])))",
                    "p50",
                ),
                Query(
                    "histogram_quantile(0.95, sum by (le) "
                    f"(rate(stackyard_request_duration_seconds_bucket[{RATE}])))",
                    "p95",
                ),
                unit="s",
            )
        )
        .with_row(dashboard.Row("Errors and saturation"))
        .with_panel(
            graph(
                "Failures/s by request (Locust)",
                Query(
                    f"sum by (method, name) "
                    f'(rate(locust_failures_total{{{SEL},name!="Aggregated"}}[{RATE}]))',
                    "{{method}} {{name}}",
                ),
                unit="reqps",
            )
        )
        .with_panel(
            graph(
                "CPU: load generator vs app server",
                Query(f"max(locust_cpu_percent{{{SEL}}}) / 100", "locust"),
                Query(
                    f'sum(rate(process_cpu_seconds_total{{job="stackyard-apps"}}[{RATE}]))',
                    "app server",
                ),
                unit="percentunit",
            )
        )
    )
