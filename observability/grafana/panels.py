"""The few panel shapes the Stackyard dashboards use, on grafana-foundation-sdk builders.

Every query is a `Query` (PromQL plus legend), so the snapshot renderer and the tests read
exactly what Grafana runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders import common, dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.models.common import GraphDrawStyle, LegendDisplayMode, LegendPlacement
from grafana_foundation_sdk.models.dashboard import VariableRefresh

from observability.grafana import datasource

RATE = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


def _target(query: Query, ref_id: str, *, instant: bool = False) -> prometheus.Dataquery:
    target = prometheus.Dataquery().expr(query.expr).ref_id(ref_id).datasource(datasource())
    if query.legend:
        target = target.legend_format(query.legend)
    return target.instant() if instant else target.range()


def graph(
    title: str,
    *queries: Query,
    unit: str = "short",
    description: str = "",
    width: int = 12,
    height: int = 8,
    stacked: bool = False,
) -> timeseries.Panel:
    """A time series panel, legend as a table below so every series is named."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(datasource())
        .unit(unit)
        .span(width)
        .height(height)
        .draw_style(GraphDrawStyle.LINE)
        .line_width(1)
        .fill_opacity(10 if stacked else 0)
        .legend(
            common.VizLegendOptions()
            .display_mode(LegendDisplayMode.TABLE)
            .placement(LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["mean", "max"])
        )
    )
    for index, query in enumerate(queries):
        panel = panel.with_target(_target(query, chr(ord("A") + index)))
    return panel


def single_stat(
    title: str, query: Query, *, unit: str = "short", description: str = "", width: int = 6
) -> stat.Panel:
    """One number (the latest value), with its sparkline."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(datasource())
        .unit(unit)
        .span(width)
        .height(4)
        .with_target(_target(query, "A"))
    )


def variable(name: str, label: str, query: str) -> dashboard.QueryVariable:
    """A multi-value variable from `label_values(...)`, `All` by default."""
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .query(query)
        .datasource(datasource())
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
    )


def base(uid: str, title: str, tags: list[str], description: str) -> dashboard.Dashboard:
    """A dashboard with the house defaults: stable uid, browser time, last hour, 30 s refresh."""
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["stackyard", *tags])
        .timezone("browser")
        .time("now-1h", "now")
        .refresh("30s")
        .editable()
    )
