"""Load tests: `stackyard loadtest SCENARIO` runs a registered Locust scenario headless.

Command-line only (no `router`); the harness itself lives in loadtests/.
"""
