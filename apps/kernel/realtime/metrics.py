"""Prometheus metrics of the real-time layer (exposed by the gateway's /metrics)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

CONNECTED_CLIENTS = Gauge(
    "stackyard_realtime_connected_clients",
    "WebSocket clients connected to this process.",
    multiprocess_mode="livesum",
)
MESSAGES = Counter(
    "stackyard_realtime_messages",
    "Events published (direction=in) and frames handed to subscribers (direction=out).",
    ["direction"],
)
DROPPED_SLOW_CONSUMERS = Counter(
    "stackyard_realtime_dropped_slow_consumers",
    "Subscribers disconnected because they fell too far behind.",
)
FANOUT_SECONDS = Histogram(
    "stackyard_realtime_fanout_seconds",
    "Seconds from publish to the event being handed to every local subscriber.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
MESSAGES_IN = MESSAGES.labels("in")
MESSAGES_OUT = MESSAGES.labels("out")


@contextmanager
def connected_client() -> Iterator[None]:
    """Count one connected client for the duration of the block."""
    CONNECTED_CLIENTS.inc()
    try:
        yield
    finally:
        CONNECTED_CLIENTS.dec()
