"""The real local CDN: cache status headers, purge, failover, uri hashing, status and down."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.apps.cdn.conftest import RunningCdn, admin_token, cache_manager_started

pytestmark = pytest.mark.slow
OBJ = "/cdn/origin/objects/{}"


def test_cdn_up_reports_front_edges_and_origin_in_order(cdn: RunningCdn) -> None:
    assert cdn.front.startswith("http://127.0.0.1:")
    assert list(cdn.edges) == ["edge-1", "edge-2"]
    assert httpx.get(f"{cdn.origin}/health").status_code == 200


def test_second_request_of_an_object_is_a_hit(cdn: RunningCdn) -> None:
    first = httpx.get(cdn.front + OBJ.format(11))
    second = httpx.get(cdn.front + OBJ.format(11))
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Cache-Status"] == "MISS"
    assert second.headers["X-Cache-Status"] == "HIT"
    assert first.content == second.content
    assert second.headers["ETag"] and second.headers["Last-Modified"]


def test_purge_through_the_admin_api_makes_the_next_request_a_miss(cdn: RunningCdn) -> None:
    path = OBJ.format(12)
    httpx.get(cdn.front + path)
    assert httpx.get(cdn.front + path).headers["X-Cache-Status"] == "HIT"
    answer = httpx.post(
        f"{cdn.origin}/cdn/purge",
        json={"path": path},
        headers={"Authorization": f"Bearer {admin_token()}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["purged"] == 1  # cached on exactly one edge (uri hashing)
    assert httpx.get(cdn.front + path).headers["X-Cache-Status"] == "MISS"


def test_changing_an_object_purges_it_and_edges_serve_the_new_bytes(cdn: RunningCdn) -> None:
    path = OBJ.format("banner.txt")
    headers = {"Authorization": f"Bearer {admin_token()}", "Content-Type": "text/plain"}
    assert httpx.put(
        cdn.origin + "/cdn/objects/banner.txt", content=b"v1", headers=headers
    ).is_success
    assert httpx.get(cdn.front + path).text == "v1"
    assert httpx.get(cdn.front + path).headers["X-Cache-Status"] == "HIT"
    assert httpx.put(
        cdn.origin + "/cdn/objects/banner.txt", content=b"v2", headers=headers
    ).is_success
    fresh = httpx.get(cdn.front + path)
    assert (fresh.text, fresh.headers["X-Cache-Status"]) == ("v2", "MISS")


def test_uri_hashing_sends_the_same_path_to_the_same_edge(cdn: RunningCdn) -> None:
    seen: dict[int, set[str]] = {}
    with httpx.Client() as client:
        for _ in range(3):
            for object_id in range(40, 70):
                edge = client.get(cdn.front + OBJ.format(object_id)).headers["X-Edge"]
                seen.setdefault(object_id, set()).add(edge)
    assert all(len(edges) == 1 for edges in seen.values())
    assert {edge for edges in seen.values() for edge in edges} == {"edge-1", "edge-2"}


def test_status_reports_hit_ratio_bytes_and_health(cdn: RunningCdn) -> None:
    for _ in range(2):
        httpx.get(cdn.front + OBJ.format(13))
    command = ["cdn", "status", "--json", "--state-dir", str(cdn.folder)]
    out = subprocess.run(
        [sys.executable, "-m", "apps.cli", *command],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    rows = {row["edge"]: row for row in json.loads(out)}
    assert set(rows) == {"edge-1", "edge-2"}
    assert sum(row["requests"] for row in rows.values()) >= 2
    assert any(row["hit_ratio"] > 0 for row in rows.values())
    assert all(row["bytes_served"] > 0 for row in rows.values())
    metrics = httpx.get(cdn.state().metrics).text
    assert 'stackyard_cdn_requests_total{cache="hit"' in metrics


def test_origin_answers_304_to_a_revalidation(cdn: RunningCdn) -> None:
    first = httpx.get(cdn.origin + OBJ.format(14))
    again = httpx.get(cdn.origin + OBJ.format(14), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_simulator_hit_ratio_is_within_5_points_of_the_nginx_edges(cdn: RunningCdn) -> None:
    """Same trace, same edge per request, catalogue over 3x the total edge cache."""
    from apps.cdn.catalogue import catalogue_table
    from apps.cdn.config import parse_config
    from apps.cdn.simulate import assign_edges, make_workload, simulate
    from apps.cdn.stats import EdgeStats, read_lines

    state = cdn.state()
    config = parse_config(state.config)
    assert catalogue_table(config.objects).sizes.sum() >= 3 * config.total_cache_bytes
    purge = httpx.post(
        f"{cdn.origin}/cdn/purge",
        json={"prefix": "/cdn/origin/objects/"},
        headers={"Authorization": f"Bearer {admin_token()}"},
        timeout=30,
    )
    assert purge.status_code == 200, purge.text
    # Enough requests to span several cache-manager cycles, so their timing averages out.
    workload = make_workload(2400, config, alpha=0.8, duration_s=60, seed=7)
    edges = assign_edges(workload, config, "uri-consistent")
    logs = [Path(edge.folder) / "access.log" for edge in state.edges]
    offsets = [read_lines(log)[1] for log in logs]
    with httpx.Client(timeout=10) as client:
        for object_id, edge in zip(workload.objects.tolist(), edges.tolist(), strict=True):
            url = state.edges[edge].url + OBJ.format(object_id)
            assert client.get(url).status_code == 200
    time.sleep(0.3)
    real = EdgeStats()
    for log, offset in zip(logs, offsets, strict=True):
        for line in read_lines(log, offset)[0]:
            real.add(line)
    assert real.requests == len(workload)
    # Replay on the edges' own clock: nginx's cache manager evicts every 10 s from its start.
    stamps = sorted(line.time for log, offset in zip(logs, offsets, strict=True)
                    for line in read_lines(log, offset)[0])  # fmt: skip
    replay = dataclasses.replace(workload, times=np.asarray(stamps))
    starts = [cache_manager_started(edge.pid) for edge in state.edges]
    simulated = simulate(
        replay, config, policy="nginx", edges=edges, belady=False, manager_starts=starts
    )
    sim_ratio = float(simulated.hits.mean())
    print(f"nginx edges hit ratio {real.hit_ratio:.3f}, simulator {sim_ratio:.3f}")
    assert 0.2 < real.hit_ratio < 0.95  # eviction really happened, and caching really worked
    assert abs(real.hit_ratio - sim_ratio) <= 0.05


def test_a_killed_edge_is_taken_out_without_failed_client_requests(cdn: RunningCdn) -> None:
    """Last in this module (tests run in file order on a worker): it leaves one edge dead."""
    state = cdn.state()
    victim = state.edges[1]
    failures_after_check: list[str] = []
    check_window = state.config["health_check_interval_ms"] * state.config["health_check_fall"]
    with httpx.Client(timeout=5) as client:
        for object_id in range(20):
            assert client.get(cdn.front + OBJ.format(object_id)).status_code == 200
        os.killpg(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        served_by: set[str] = set()
        for round_ in range(300):
            object_id = round_ % 60
            try:
                answer = client.get(cdn.front + OBJ.format(object_id))
                ok = answer.status_code == 200
                served_by.add(answer.headers.get("X-Edge", "?"))
            except httpx.HTTPError as exc:
                ok, answer = False, exc  # type: ignore[assignment]
            if not ok and time.monotonic() - killed_at > check_window / 1000 + 0.5:
                failures_after_check.append(f"{object_id}: {answer}")
    assert not failures_after_check
    assert victim.name not in served_by or len(served_by) > 1
