"""A Markdown invoice from a report: one line per project, then the hours per day or week."""

from __future__ import annotations

from datetime import date

from apps.freelance.reports import Bucket, Report, clock_hours, money


def markdown_invoice(
    report: Report,
    *,
    issued: date,
    number: str | None = None,
    by: Bucket = Bucket.DAY,
) -> str:
    """Billable hours (after rounding) times each project's rate; unrated projects show 0."""
    first, last = report.first_day, report.last_day
    span = f"{first.isoformat()} to {last.isoformat()}" if first else f"until {last.isoformat()}"
    title = "all projects" if report.subject == "all" else report.subject
    lines = [
        f"# Invoice{f' {number}' if number else ''}: {title}",
        "",
        f"- Issued: {issued.isoformat()}",
        f"- Period: {span} ({report.period.label})",
        f"- Rounding: {report.rule.label}",
        "",
        "| Project | Tracked | Billable hours | Rate | Amount |",
        "|---|---:|---:|---:|---:|",
    ]
    for line in report.lines:
        rate = f"{money(line.rate, line.currency)}/h" if line.rate is not None else "no rate"
        lines.append(
            f"| {line.project} | {clock_hours(line.seconds)} | "
            f"{line.billable_seconds / 3600:.2f} | {rate} | {money(line.amount, line.currency)} |"
        )
    lines += [
        f"| **Total** | {clock_hours(report.total_seconds)} | "
        f"**{report.billable_seconds / 3600:.2f}** | | "
        f"**{report.amount_text()}** |",
        "",
    ]
    if report.unrated:
        lines += [f"Projects without a rate (billed 0): {', '.join(report.unrated)}.", ""]
    heading = "Day" if by is Bucket.DAY else "Week of"
    lines += ["## Time detail", "", f"| {heading} | Project | Hours |", "|---|---|---:|"]
    for bucket, per in report.buckets(by):
        for project, seconds in sorted(per.items()):
            lines.append(f"| {bucket.isoformat()} | {project} | {clock_hours(seconds)} |")
    for note in report.period.notes:
        lines += ["", f"_Dates: {note}._"]
    return "\n".join(lines) + "\n"
