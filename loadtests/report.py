"""What a run leaves behind: the PNG of throughput and latency over time, and `summary.json`.

Both are read from Locust's own CSVs (`locust_stats.csv`, `locust_stats_history.csv`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.dates import DateFormatter

CSV_PREFIX = "locust"
CPU_WARNING_TEXT = "CPU usage above"
PERCENTILES = ("50%", "95%", "99%")


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "N/A") else None
    except ValueError:
        return None


def read_history(folder: Path) -> list[dict[str, str]]:
    """The aggregated rows of `locust_stats_history.csv`, one per second of the run."""
    path = folder / f"{CSV_PREFIX}_stats_history.csv"
    with path.open(newline="") as handle:
        return [row for row in csv.DictReader(handle) if row.get("Name") == "Aggregated"]


def read_stats(folder: Path) -> list[dict[str, str]]:
    with (folder / f"{CSV_PREFIX}_stats.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def plot(folder: Path, title: str) -> Path:
    """Throughput, failures, users and p50/p95/p99 latency over the run, as `report.png`."""
    rows = read_history(folder)
    if not rows:
        raise ValueError(f"{folder}: Locust wrote no history rows; did the run start?")
    times = [datetime.fromtimestamp(int(row["Timestamp"])) for row in rows]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    top.plot(times, [_float(r["Requests/s"]) or 0 for r in rows], label="requests/s")
    top.plot(times, [_float(r["Failures/s"]) or 0 for r in rows], label="failures/s", color="red")
    top.set_ylabel("per second")
    users = top.twinx()
    users.plot(times, [_float(r["User Count"]) or 0 for r in rows], color="grey", ls="--",
               label="users")  # fmt: skip
    users.set_ylabel("users")
    lines = top.get_legend_handles_labels()
    extra = users.get_legend_handles_labels()
    top.legend(lines[0] + extra[0], lines[1] + extra[1], loc="upper left", fontsize=8)
    top.set_title(title)
    for column in PERCENTILES:
        values = [_float(r.get(column)) for r in rows]
        bottom.plot(times, [v if v is not None else float("nan") for v in values],
                    label=f"p{column.rstrip('%')}")  # fmt: skip
    bottom.set_ylabel("response time (ms)")
    bottom.legend(loc="upper left", fontsize=8)
    bottom.xaxis.set_major_formatter(DateFormatter("%H:%M:%S"))
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
    figure.tight_layout()
    out = folder / "report.png"
    figure.savefig(out, dpi=100)
    plt.close(figure)
    return out


def cpu_warning(folder: Path) -> str | None:
    """Locust's own CPU warning line, if it logged one during the run."""
    for name in ("locust.log", "locust.out"):
        path = folder / name
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if CPU_WARNING_TEXT in line or "CPU usage was too high" in line:
                return line.strip()
    return None


def summarize(folder: Path, run: Mapping[str, Any]) -> dict[str, Any]:
    """`summary.json`: the run's settings, totals, latency percentiles and per-request table."""
    stats = read_stats(folder)
    total = next((row for row in stats if row["Name"] == "Aggregated"), None)
    if total is None:
        raise ValueError(f"{folder}: no Aggregated row in {CSV_PREFIX}_stats.csv")
    requests = int(total["Request Count"])
    failures = int(total["Failure Count"])
    warning = cpu_warning(folder)
    summary: dict[str, Any] = {
        **run,
        "requests": requests,
        "failures": failures,
        "failure_ratio": failures / requests if requests else 0.0,
        "requests_per_second": _float(total["Requests/s"]),
        "latency_ms": {
            "avg": _float(total["Average Response Time"]),
            "p50": _float(total["50%"]),
            "p95": _float(total["95%"]),
            "p99": _float(total["99%"]),
            "max": _float(total["Max Response Time"]),
        },
        "requests_by_name": [
            {
                "method": row["Type"],
                "name": row["Name"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p95_ms": _float(row["95%"]),
            }
            for row in stats
            if row["Name"] != "Aggregated"
        ],
        "load_generator_cpu_bound": bool(warning) or (run.get("locust_cpu_max_percent") or 0) >= 90,
        "cpu_warning": warning,
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary
