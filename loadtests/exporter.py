"""Prometheus exporter inside the Locust process, on Locust's event hooks.

Loaded by the runner as an extra locustfile (`-f exporter.py,<scenario>.py`), so every
scenario is exported without importing it. At each scrape it reads the live stats of the
runner; it serves on 127.0.0.1:$STACKYARD_LOCUST_METRICS_PORT (0 disables it) with gevent's
WSGI server, and keeps serving $STACKYARD_LOCUST_LINGER seconds after the run so Prometheus
records the final numbers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import gevent
from gevent.pywsgi import WSGIServer
from locust import events
from locust.env import Environment
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

QUANTILES = (0.5, 0.95, 0.99)
log = logging.getLogger("stackyard.loadtest.exporter")


class LocustCollector(Collector):
    """Live Locust stats as Prometheus metrics, labelled by scenario, method and request name."""

    def __init__(self, environment: Environment, scenario: str) -> None:
        self.environment = environment
        self.scenario = scenario

    def collect(self) -> Iterator[Metric]:
        runner = self.environment.runner
        base = ["scenario"]
        up = GaugeMetricFamily("locust_up", "1 while the Locust process serves", labels=base)
        up.add_metric([self.scenario], 1)
        yield up
        if runner is None:
            return
        users = GaugeMetricFamily("locust_users", "Running simulated users", labels=base)
        users.add_metric([self.scenario], runner.user_count)
        cpu = GaugeMetricFamily(
            "locust_cpu_percent", "CPU use of the Locust process (one core = 100)", labels=base
        )
        cpu.add_metric([self.scenario], runner.current_cpu_usage)
        warned = GaugeMetricFamily(
            "locust_cpu_warning", "1 once Locust warned it was CPU-bound", labels=base
        )
        warned.add_metric([self.scenario], float(runner.cpu_warning_emitted))
        yield from (users, cpu, warned)

        labels = ["scenario", "method", "name"]
        requests = CounterMetricFamily("locust_requests", "Requests sent", labels=labels)
        failures = CounterMetricFamily("locust_failures", "Requests that failed", labels=labels)
        rps = GaugeMetricFamily("locust_requests_per_second", "Current requests/s", labels=labels)
        latency = GaugeMetricFamily(
            "locust_response_time_seconds",
            "Current response time percentiles (Locust's rolling window)",
            labels=[*labels, "quantile"],
        )
        stats = runner.stats
        for entry in [*stats.entries.values(), stats.total]:
            key = [self.scenario, entry.method or "", entry.name]
            requests.add_metric(key, entry.num_requests)
            failures.add_metric(key, entry.num_failures)
            rps.add_metric(key, entry.current_rps or 0.0)
            for quantile in QUANTILES:
                value = _current_percentile(entry, quantile)
                if value is not None:
                    latency.add_metric([*key, f"{quantile:g}"], value / 1000.0)
        yield from (requests, failures, rps, latency)


def _current_percentile(entry: Any, quantile: float) -> float | None:
    try:
        value = entry.get_current_response_time_percentile(quantile)
    except (ValueError, KeyError, ZeroDivisionError):
        value = None
    if value is None and entry.num_requests:
        value = entry.get_response_time_percentile(quantile)
    return value


@events.init.add_listener
def start_exporter(environment: Environment, **_: Any) -> None:
    port = int(os.environ.get("STACKYARD_LOCUST_METRICS_PORT", "9646"))
    if port == 0:
        return
    scenario = os.environ.get("STACKYARD_LOADTEST_SCENARIO", "adhoc")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LocustCollector(environment, scenario))
    server = WSGIServer(("127.0.0.1", port), make_wsgi_app(registry), log=None)
    server.start()
    log.info("Prometheus metrics on http://127.0.0.1:%d/metrics", port)

    @events.quitting.add_listener
    def linger(**_: Any) -> None:
        gevent.sleep(float(os.environ.get("STACKYARD_LOCUST_LINGER", "0")))
        server.stop(timeout=1)
