"""A tiny Prometheus exporter inside `cdn up`: tails each edge's access log and reads HAProxy's
health checks, publishing the names declared in observability/known_metrics.py.

    stackyard_cdn_requests_total{edge,cache}        one per GET/HEAD an edge answered
    stackyard_cdn_bytes_served_total{edge,cache}    body bytes sent
    stackyard_cdn_origin_fetch_seconds{edge}        histogram of $upstream_response_time
    stackyard_cdn_edge_up{edge}                     1 while HAProxy's health check passes
"""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from apps.cdn.stats import read_lines

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)


def haproxy_health(stats_url: str) -> dict[str, bool]:
    """Server name -> UP, from HAProxy's stats CSV (empty when HAProxy does not answer)."""
    try:
        text = httpx.get(f"{stats_url}/stats;csv", timeout=2).text
    except httpx.HTTPError:
        return {}
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return {
        row["svname"]: row["status"].startswith("UP")
        for row in rows
        if row.get("pxname") == "edges" and row.get("svname") not in {"FRONTEND", "BACKEND"}
    }


class EdgeExporter:
    def __init__(self, logs: dict[str, Path], stats_url: str, interval: float = 1.0) -> None:
        self.logs = logs
        self.stats_url = stats_url
        self.interval = interval
        self.offsets = dict.fromkeys(logs, 0)
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stackyard_cdn_requests", "Edge requests by cache status", ["edge", "cache"],
            registry=self.registry,
        )  # fmt: skip
        self.bytes = Counter(
            "stackyard_cdn_bytes_served", "Body bytes sent by edges", ["edge", "cache"],
            registry=self.registry,
        )  # fmt: skip
        self.origin = Histogram(
            "stackyard_cdn_origin_fetch_seconds", "Edge-to-origin fetch time", ["edge"],
            buckets=BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.up = Gauge("stackyard_cdn_edge_up", "HAProxy health", ["edge"], registry=self.registry)
        self._stop = threading.Event()

    def collect_once(self) -> None:
        for edge, path in self.logs.items():
            lines, self.offsets[edge] = read_lines(path, self.offsets[edge])
            for line in lines:
                if line.method not in {"GET", "HEAD"}:
                    continue
                self.requests.labels(edge, line.cache).inc()
                self.bytes.labels(edge, line.cache).inc(line.bytes_sent)
                if line.upstream_time is not None:
                    self.origin.labels(edge).observe(line.upstream_time)
        health = haproxy_health(self.stats_url)
        for edge in self.logs:
            self.up.labels(edge).set(1.0 if health.get(edge) else 0.0)

    def start(self, port: int) -> None:
        start_http_server(port, addr="127.0.0.1", registry=self.registry)
        threading.Thread(target=self._loop, name="cdn-exporter", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.collect_once()
