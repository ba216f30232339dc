"""A PNG bar chart of hours per local day, stacked by project (matplotlib, Agg backend)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from apps.freelance.errors import InvalidInput
from apps.freelance.reports import Report

MAX_DAYS = 366


def hours_per_day_chart(report: Report, path: Path) -> Path:
    """Write the chart to `path`; days without work inside the span show as empty bars."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    first = report.first_day
    days = []
    if first is not None and report.days:
        last = min(report.last_day, max(report.days))
        first = max(first, last - timedelta(days=MAX_DAYS - 1))
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    projects = [line.project for line in report.lines]
    figure, axes = plt.subplots(figsize=(max(6.0, 0.35 * len(days) + 2), 4), dpi=100)
    try:
        bottoms = [0.0] * len(days)
        labels = [day.strftime("%m-%d") for day in days]
        for project in projects:
            hours = [report.days.get(day, {}).get(project, 0) / 3600 for day in days]
            axes.bar(labels, hours, bottom=bottoms, label=project)
            bottoms = [b + h for b, h in zip(bottoms, hours, strict=True)]
        axes.set_ylabel("hours")
        axes.set_title(f"{report.subject}: {report.period.label}")
        if len(projects) > 1:
            axes.legend()
        if not days:
            axes.text(0.5, 0.5, "no time tracked", ha="center", transform=axes.transAxes)
        axes.tick_params(axis="x", labelrotation=60)
        figure.tight_layout()
        try:
            figure.savefig(path, format="png")
        except OSError as exc:
            raise InvalidInput(f"cannot write the chart to {path}: {exc.strerror}") from None
    finally:
        plt.close(figure)
    return path
