"""cdn: clients in several regions fetch Zipf-distributed objects through the HAProxy front.

Every answer's X-Cache-Status goes to a per-request CSV ($STACKYARD_CDN_REQUEST_LOG), from
which the scenario draws hits vs misses over time. A few requests go straight to the origin
($STACKYARD_CDN_ORIGIN_URL), named `origin-direct`, as the baseline an edge hit is compared to.
"""

from __future__ import annotations

import os
import time

import numpy as np
from locust import HttpUser, between, events, task

OBJECTS = int(os.environ.get("STACKYARD_CDN_OBJECTS", "1000"))
ALPHA = float(os.environ.get("STACKYARD_CDN_ALPHA", "0.9"))
ORIGIN = os.environ.get("STACKYARD_CDN_ORIGIN_URL", "")
LOG_PATH = os.environ.get("STACKYARD_CDN_REQUEST_LOG", "")
_weights = 1.0 / np.arange(1, OBJECTS + 1) ** ALPHA
_cdf = np.cumsum(_weights / _weights.sum())
_ids = np.random.default_rng(1).permutation(OBJECTS)
_log = open(LOG_PATH, "a", buffering=1) if LOG_PATH else None  # noqa: SIM115


def zipf_object() -> int:
    return int(_ids[min(int(np.searchsorted(_cdf, np.random.random())), OBJECTS - 1)])


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, **_):
    if _log is None or response is None:
        return
    cache = (
        response.headers.get("X-Cache-Status", "origin") if name != "origin-direct" else "origin"
    )
    _log.write(f"{time.time():.3f},{name},{cache},{response_time:.2f},{response_length}\n")


class RegionalUser(HttpUser):
    abstract = True
    wait_time = between(0.05, 0.3)
    region = "eu"

    @task(20)
    def fetch_object(self) -> None:
        self.client.get(
            f"/cdn/origin/objects/{zipf_object()}",
            name="/cdn/origin/objects/{id}",
            headers={"X-Client-Region": self.region},
        )

    @task(1)
    def fetch_from_origin(self) -> None:
        if ORIGIN:
            self.client.get(f"{ORIGIN}/cdn/origin/objects/{zipf_object()}", name="origin-direct")


class EuropeUser(RegionalUser):
    weight, region = 3, "eu"


class AmericasUser(RegionalUser):
    weight, region = 2, "us"


class AsiaUser(RegionalUser):
    weight, region = 1, "ap"
