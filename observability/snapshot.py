"""Render a dashboard's panels to a PNG by running its PromQL against Prometheus.

For machines without Grafana: the queries are read from the committed JSON model, so the
picture shows exactly what the Grafana dashboard would, variables set to `All` unless given.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.dates import DateFormatter

from observability import runtime
from observability.grafana import dashboards
from observability.promql import substitute_variables

_RELATIVE = re.compile(r"^now(?:-(\d+)([smhdw]))?$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def parse_time(value: str, now: float | None = None) -> float:
    """`now`, `now-15m`, a Unix timestamp or an ISO 8601 time -> Unix seconds."""
    now = time.time() if now is None else now
    match = _RELATIVE.match(value.strip())
    if match:
        amount, unit = match.groups()
        return now - (int(amount) * _SECONDS[unit] if amount else 0)
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise ValueError(
            f"{value!r} is not now, now-<n><s|m|h|d|w>, a timestamp or ISO time"
        ) from None


@dataclass
class PanelResult:
    title: str
    kind: str
    series: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    path: Path
    panels: list[PanelResult]

    @property
    def panels_with_data(self) -> list[str]:
        return [panel.title for panel in self.panels if panel.series]


def _label(legend: str, metric: dict[str, str], fallback: str) -> str:
    if not legend:
        inner = ", ".join(f"{k}={v}" for k, v in metric.items() if k != "__name__")
        return inner or fallback
    return _LEGEND.sub(lambda m: metric.get(m.group(1), ""), legend).strip() or fallback


def _scale(unit: str) -> tuple[float, str]:
    return {
        "percentunit": (100.0, "%"),
        "s": (1000.0, "ms"),
        "bytes": (1 / 2**20, "MiB"),
        "reqps": (1.0, " req/s"),
        "ops": (1.0, " /s"),
    }.get(unit, (1.0, unit if unit not in {"short", ""} else ""))


def render(
    prometheus_url: str,
    name: str,
    start: float,
    end: float,
    out: Path,
    *,
    variables: dict[str, str] | None = None,
    scrape_interval: float = 15.0,
) -> Snapshot:
    """Query every panel of dashboard `name` over [start, end] and draw them into `out` (PNG)."""
    if end <= start:
        raise ValueError("--to must be after --from")
    model = dashboards.committed(name)
    panels = [p for p in model.get("panels", []) if p.get("type") != "row" and p.get("targets")]
    step = max(1.0, math.ceil((end - start) / 240))
    rate_interval = f"{int(max(step + scrape_interval, 4 * scrape_interval))}s"
    columns = 2
    rows = max(1, math.ceil(len(panels) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(15, 3.4 * rows), squeeze=False)
    results = []
    for index, panel in enumerate(panels):
        axis = axes[index // columns][index % columns]
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        factor, suffix = _scale(unit)
        result = PanelResult(panel.get("title", ""), panel.get("type", ""))
        for target in panel["targets"]:
            expr = substitute_variables(target["expr"], variables, rate_interval=rate_interval)
            try:
                matrix = runtime.query_range(prometheus_url, expr, start, end, step)
            except Exception as exc:  # one bad panel must not hide the others
                result.errors.append(f"{target.get('refId', '')}: {exc}")
                continue
            for series in matrix:
                points = [(float(t), float(v)) for t, v in series["values"]]
                points = [(t, v) for t, v in points if math.isfinite(v)]
                if not points:
                    continue
                result.series += 1
                times = [datetime.fromtimestamp(t) for t, _ in points]
                label = _label(target.get("legendFormat", ""), series["metric"], result.title)
                axis.plot(times, [v * factor for _, v in points], linewidth=1.2, label=label)
        results.append(result)
        axis.set_title(result.title + (f" ({suffix})" if suffix else ""), fontsize=10)
        axis.xaxis.set_major_formatter(DateFormatter("%H:%M:%S"))
        axis.tick_params(labelsize=8)
        axis.grid(alpha=0.3)
        if result.series:
            if len(axis.get_legend_handles_labels()[1]) <= 12:
                axis.legend(fontsize=7, loc="upper left")
            if panel.get("type") == "stat":
                last = axis.lines[-1].get_ydata()[-1]
                axis.text(0.98, 0.85, f"{last:.3g}{suffix}", transform=axis.transAxes,
                          ha="right", fontsize=16, weight="bold")  # fmt: skip
        else:
            message = "error: " + result.errors[0][:80] if result.errors else "no data"
            axis.text(0.5, 0.5, message, ha="center", va="center", transform=axis.transAxes)
    for index in range(len(panels), rows * columns):
        axes[index // columns][index % columns].axis("off")
    first, last = datetime.fromtimestamp(start), datetime.fromtimestamp(end)
    window = f"{first:%Y-%m-%d %H:%M:%S} - {last:%H:%M:%S}"
    figure.suptitle(f"{model.get('title', name)}  ({window}, step {step:g}s)", fontsize=13)
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=90)
    plt.close(figure)
    return Snapshot(out, results)


def summary_rows(snapshot: Snapshot) -> list[dict[str, Any]]:
    return [
        {"panel": p.title, "type": p.kind, "series": p.series, "errors": p.errors}
        for p in snapshot.panels
    ]
