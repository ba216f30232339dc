"""CDN: hit ratio, hit vs miss latency, per-edge traffic and health, origin load.

Edge figures come from the exporter inside `stackyard cdn up` (apps/cdn/exporter.py, job
`nginx-edges` or `--target`), origin load from the origin's own `stackyard_requests_total`.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from observability.grafana.panels import RATE, Query, base, graph, single_stat, variable

UID = "stackyard-cdn"
SEL = 'edge=~"$edge"'
ORIGIN = 'service="cdn", path=~"/cdn/origin/.*"'


def build() -> dashboard.Dashboard:
    return (
        base(UID, "Stackyard CDN", ["cdn"], "Edge caches, hit ratio, origin load.")
        .with_variable(variable("edge", "Edge", "label_values(stackyard_cdn_requests_total, edge)"))
        .with_row(dashboard.Row("Now"))
        .with_panel(
            single_stat(
                "Hit ratio",
                Query(
                    f'sum(rate(stackyard_cdn_requests_total{{{SEL}, cache="hit"}}[{RATE}]))'
                    f" / sum(rate(stackyard_cdn_requests_total{{{SEL}}}[{RATE}]))"
                ),
                unit="percentunit",
            )
        )
        .with_panel(
            single_stat(
                "Edge requests/s",
                Query(f"sum(rate(stackyard_cdn_requests_total{{{SEL}}}[{RATE}]))"),
                unit="reqps",
            )
        )
        .with_panel(single_stat("Edges up", Query(f"sum(stackyard_cdn_edge_up{{{SEL}}})")))
        .with_panel(
            single_stat(
                "Origin requests/s",
                Query(f"sum(rate(stackyard_requests_total{{{ORIGIN}}}[{RATE}]))"),
                unit="reqps",
            )
        )
        .with_row(dashboard.Row("Per edge"))
        .with_panel(
            graph(
                "Hit ratio per edge",
                Query(
                    f'sum by (edge) (rate(stackyard_cdn_requests_total{{{SEL}, cache="hit"}}'
                    f"[{RATE}])) / sum by (edge) (rate(stackyard_cdn_requests_total{{{SEL}}}"
                    f"[{RATE}]))",
                    "{{edge}}",
                ),
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "Requests/s by cache status",
                Query(
                    f"sum by (edge, cache) (rate(stackyard_cdn_requests_total{{{SEL}}}[{RATE}]))",
                    "{{edge}} {{cache}}",
                ),
                unit="reqps",
                stacked=True,
            )
        )
        .with_panel(
            graph(
                "Bytes served/s",
                Query(
                    f"sum by (edge) (rate(stackyard_cdn_bytes_served_total{{{SEL}}}[{RATE}]))",
                    "{{edge}}",
                ),
                unit="Bps",
            )
        )
        .with_panel(
            graph(
                "Edge health (HAProxy check)",
                Query(f"stackyard_cdn_edge_up{{{SEL}}}", "{{edge}}"),
            )
        )
        .with_row(dashboard.Row("Latency and origin"))
        .with_panel(
            graph(
                "Miss latency: edge-to-origin fetch p50/p99",
                Query(
                    "histogram_quantile(0.5, sum by (le) (rate("
                    f"stackyard_cdn_origin_fetch_seconds_bucket{{{SEL}}}[{RATE}])))",
                    "p50",
                ),
                Query(
                    "histogram_quantile(0.99, sum by (le) (rate("
                    f"stackyard_cdn_origin_fetch_seconds_bucket{{{SEL}}}[{RATE}])))",
                    "p99",
                ),
                unit="s",
                description="What a miss adds over a hit; a hit fetches nothing from the origin.",
            )
        )
        .with_panel(
            graph(
                "Origin requests/s and p99",
                Query(f"sum(rate(stackyard_requests_total{{{ORIGIN}}}[{RATE}]))", "requests/s"),
                unit="reqps",
            )
        )
    )
