"""Config validation, catalogue determinism, templates, simulator policies and Belady."""

from __future__ import annotations

import json

import numpy as np
import pytest

from apps.cdn import catalogue, render, simulate
from apps.cdn.config import ConfigError, default_config, parse_config


def test_a_bad_config_names_the_field() -> None:
    with pytest.raises(ConfigError) as bad_type:
        parse_config({"edges": [{"name": "e1", "region": "eu", "cache_size_bytes": "big"}]})
    assert bad_type.value.field == "edges[0].cache_size_bytes"
    with pytest.raises(ConfigError) as bad_region:
        parse_config({"edges": [{"name": "e1", "region": "mars"}]})
    assert bad_region.value.field == "edges[0].region"


def test_catalogue_objects_are_deterministic_and_exactly_their_size() -> None:
    for object_id in range(30):
        described = catalogue.describe(object_id, 1000)
        assert described is not None
        data = catalogue.body(object_id, described.kind, described.size)
        assert len(data) == described.size
        if described.kind == "json":
            json.loads(data)
        if described.kind == "image":
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
    assert catalogue.describe(7, 1000) == catalogue.describe(7, 50)
    assert catalogue.describe(1000, 1000) is None


@pytest.mark.parametrize("lb", ["uri-consistent", "roundrobin", "leastconn"])
def test_haproxy_template_renders_each_algorithm(lb: str, tmp_path) -> None:
    config = default_config(2, lb)
    text = render.haproxy_config(
        render.haproxy_context(
            config,
            listen="127.0.0.1:1",
            servers=[{"name": "edge-1", "address": "127.0.0.1:2"}],
            pid=tmp_path / "p",
        )
    )
    expected = {"uri-consistent": "balance uri", "roundrobin": "balance roundrobin",
                "leastconn": "balance leastconn"}[lb]  # fmt: skip
    assert expected in text and "option httpchk" in text
    assert ("hash-type consistent" in text) == (lb == "uri-consistent")


def test_nginx_template_has_the_caching_directives(tmp_path) -> None:
    config = default_config(1)
    text = render.nginx_config(
        render.nginx_context(
            config.edges[0], listen="127.0.0.1:1", origin="127.0.0.1:2", folder=tmp_path
        )
    )
    for directive in ("proxy_cache_lock on", "proxy_cache_use_stale updating error timeout",
                      "proxy_cache_background_update on", "X-Cache-Status"):  # fmt: skip
        assert directive in text


def _small(policy_edges: int = 2, cache: int = 512 * 1024):
    config = default_config(policy_edges, objects=2000, cache_size_bytes=cache)
    return config, simulate.make_workload(20_000, config, alpha=0.9, seed=3)


def test_belady_is_the_ceiling_of_every_policy() -> None:
    config, workload = _small()
    for policy in ("lru", "lfu", "ttl", "gdsf", "nginx"):
        figures = simulate.simulate(workload, config, policy=policy).figures(workload)
        assert 0 < figures["hit_ratio"] <= figures["belady_hit_ratio"], policy


def test_a_bigger_cache_hits_more() -> None:
    config, workload = _small(cache=256 * 1024)
    big, _ = _small(cache=4 * 1024 * 1024)
    small_hits = simulate.simulate(workload, config, belady=False).hits.mean()
    big_hits = simulate.simulate(workload, big, belady=False).hits.mean()
    assert big_hits > small_hits


def test_uri_hashing_sends_an_object_to_one_edge_and_round_robin_spreads_it() -> None:
    config, workload = _small(policy_edges=4)
    hashed = simulate.assign_edges(workload, config, "uri-consistent")
    for obj in np.unique(workload.objects)[:50]:
        assert len(set(hashed[workload.objects == obj].tolist())) == 1
    spread = simulate.assign_edges(workload, config, "roundrobin")
    assert np.bincount(spread).tolist() == [5000] * 4


def test_misses_pay_the_origin_round_trip() -> None:
    config, workload = _small()
    result = simulate.simulate(workload, config, belady=False)
    assert np.median(result.latency_ms[~result.hits]) > np.median(result.latency_ms[result.hits])
