"""Load tests: Locust scenarios registered by name and the one headless runner for them all.

Locust imports gevent and monkey-patches the process, so nothing here imports `locust`
except the locustfiles and `exporter.py`, which only ever run inside the Locust process.
"""
