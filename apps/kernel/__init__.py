"""The kernel every app is built on: settings, database, cache, identity, tasks, errors, metrics.

Nothing in the kernel imports an app.
"""
