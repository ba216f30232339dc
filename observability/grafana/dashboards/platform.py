"""Platform overview: every app's RED (rate, errors, duration), per app and per route."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from observability.grafana.panels import RATE, Query, base, graph, single_stat, variable

UID = "stackyard-platform"
SEL = 'service=~"$service"'


def _quantile(q: float, by: str) -> str:
    return (
        f"histogram_quantile({q}, sum by ({by}, le) "
        f"(rate(stackyard_request_duration_seconds_bucket{{{SEL}}}[{RATE}])))"
    )


def _errors(by: str) -> str:
    return (
        f'sum by ({by}) (rate(stackyard_requests_total{{{SEL},status_code=~"5.."}}[{RATE}]))'
        f" / sum by ({by}) (rate(stackyard_requests_total{{{SEL}}}[{RATE}]))"
    )


def build() -> dashboard.Dashboard:
    return (
        base(UID, "Stackyard platform", ["red"], "Rate, errors and duration of every app.")
        .with_variable(
            variable("service", "App", "label_values(stackyard_requests_total, service)")
        )
        .with_row(dashboard.Row("Now"))
        .with_panel(
            single_stat(
                "Requests/s",
                Query(f"sum(rate(stackyard_requests_total{{{SEL}}}[{RATE}]))"),
                unit="reqps",
            )
        )
        .with_panel(
            single_stat(
                "5xx ratio",
                Query(
                    f'sum(rate(stackyard_requests_total{{{SEL},status_code=~"5.."}}[{RATE}]))'
                    f" / sum(rate(stackyard_requests_total{{{SEL}}}[{RATE}]))"
                ),
                unit="percentunit",
            )
        )
        .with_panel(single_stat("p95 latency", Query(_quantile(0.95, "app_name")), unit="s"))
        .with_panel(
            single_stat(
                "App targets up",
                Query('sum(up{job="stackyard-apps"})'),
                description="Scraped app servers answering /metrics.",
            )
        )
        .with_row(dashboard.Row("Per app"))
        .with_panel(
            graph(
                "Requests/s by app",
                Query(
                    f"sum by (service) (rate(stackyard_requests_total{{{SEL}}}[{RATE}]))",
                    "{{service}}",
                ),
                unit="reqps",
            )
        )
        .with_panel(
            graph("5xx ratio by app", Query(_errors("service"), "{{service}}"), unit="percentunit")
        )
        .with_panel(
            graph(
                "Latency by app (p50, p95, p99)",
                Query(_quantile(0.5, "service"), "p50 {{service}}"),
                Query(_quantile(0.95, "service"), "p95 {{service}}"),
                Query(_quantile(0.99, "service"), "p99 {{service}}"),
                unit="s",
            )
        )
        .with_panel(
            graph(
                "Requests/s by status",
                Query(
                    f"sum by (status_code) (rate(stackyard_requests_total{{{SEL}}}[{RATE}]))",
                    "{{status_code}}",
                ),
                unit="reqps",
                stacked=True,
            )
        )
        .with_row(dashboard.Row("Per route"))
        .with_panel(
            graph(
                "Requests/s by route",
                Query(
                    f"sum by (method, path) (rate(stackyard_requests_total{{{SEL}}}[{RATE}]))",
                    "{{method}} {{path}}",
                ),
                unit="reqps",
            )
        )
        .with_panel(
            graph(
                "p95 by route",
                Query(_quantile(0.95, "method, path"), "{{method}} {{path}}"),
                unit="s",
            )
        )
        .with_panel(
            graph(
                "5xx ratio by route",
                Query(_errors("method, path"), "{{method}} {{path}}"),
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "In flight",
                Query(f"sum by (service) (stackyard_requests_in_progress{{{SEL}}})", "{{service}}"),
            )
        )
        .with_row(dashboard.Row("SLO"))
        .with_panel(
            graph(
                "Availability burn rate (1h)",
                Query(
                    f"service:stackyard_requests_errors:ratio_rate1h{{{SEL}}} / 0.001",
                    "{{service}}",
                ),
                description="1 = spending the 30-day budget exactly; 14.4 pages.",
            )
        )
        .with_panel(
            graph(
                "Latency burn rate (1h)",
                Query(
                    f"service:stackyard_requests_slow:ratio_rate1h{{{SEL}}} / 0.01",
                    "{{service}}",
                ),
                description="Share of requests above 500 ms over the 1 % budget.",
            )
        )
        .with_row(dashboard.Row("Processes"))
        .with_panel(
            graph(
                "App server CPU",
                Query(
                    f'rate(process_cpu_seconds_total{{job="stackyard-apps"}}[{RATE}])',
                    "{{instance}}",
                ),
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "App server memory",
                Query('process_resident_memory_bytes{job="stackyard-apps"}', "{{instance}}"),
                unit="bytes",
            )
        )
    )
