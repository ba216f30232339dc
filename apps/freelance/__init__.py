"""Freelancer time tracker (brief #18): timers, rates, reports and invoices from the terminal.

A command-line-only app: no HTTP `router`. The Typer app is `apps.freelance.cli.cli`
(`stackyard freelance ...` and the `freelance` console script); data lives in a local SQLite
file (`$FREELANCE_DB`, else the XDG data dir).
"""
