"""A discrete-event simulator of the same CDN: clients in regions, a load balancer, edges with
a cache policy each, an origin, the latency matrix; over a synthetic workload (Zipf(alpha)
popularity over the catalogue, its heavy-tailed sizes, a diurnal rate, a regional mix).

Events are requests in time order; each edge's cache is updated as it is asked (TTL expiry,
nginx's `inactive`, byte capacity). Belady's furthest-next-use eviction over the same per-edge
trace gives the offline ceiling. Latencies are drawn afterwards, vectorised, from the matrix.
Policies: lru, lfu, ttl (expiry only, soonest-to-expire evicted when full), gdsf
(GreedyDual-Size-Frequency), nginx (LRU on 4 KiB blocks incl. the entry header + inactive).
"""

from __future__ import annotations

import hashlib
import heapq
import math
import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from apps.cdn.catalogue import catalogue_table
from apps.cdn.config import CdnConfig

NGINX_BLOCK = 4096
NGINX_HEADER_BYTES = 600
"""nginx's cache file header (fixed struct, key, upstream headers), roughly, per entry."""
EDGE_SERVICE_MS = 0.3
ORIGIN_SERVICE_MS = 2.0
DAY_S = 86_400.0
MANAGER_PERIOD_S = 10.0


@dataclass(frozen=True)
class Workload:
    times: npt.NDArray[np.float64]
    objects: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    """Size of each request's object (bytes)."""
    max_ages: npt.NDArray[np.int64]
    regions: npt.NDArray[np.int64]
    region_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.objects)


def make_workload(
    requests: int,
    config: CdnConfig,
    *,
    alpha: float = 0.9,
    duration_s: float = DAY_S,
    diurnal: float = 0.5,
    region_mix: Sequence[float] | None = None,
    seed: int = 0,
) -> Workload:
    """Zipf(alpha) over `config.objects` (ranks shuffled onto ids), a diurnal Poisson rate
    (peak/mean - 1 = `diurnal`) over `duration_s`, clients spread by `region_mix`."""
    rng = np.random.default_rng(seed)
    n = config.objects
    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** alpha
    rank_to_id = rng.permutation(n)
    ranks = np.searchsorted(np.cumsum(weights / weights.sum()), rng.random(requests), "right")
    objects = rank_to_id[np.minimum(ranks, n - 1)].astype(np.int64)
    # Diurnal rate: invert the cumulative intensity on a fine grid.
    grid = np.linspace(0.0, duration_s, 4097)
    intensity = 1.0 + diurnal * np.sin(2 * np.pi * grid / DAY_S - np.pi / 2)
    cumulative = np.concatenate([[0.0], np.cumsum((intensity[1:] + intensity[:-1]) / 2)])
    times = np.interp(np.sort(rng.random(requests)) * cumulative[-1], cumulative, grid)
    table = catalogue_table(n, config.seed)
    names = tuple(config.regions)
    mix = np.asarray(region_mix if region_mix is not None else [1.0] * len(names), float)
    regions = rng.choice(len(names), size=requests, p=mix / mix.sum())
    return Workload(
        times, objects, table.sizes[objects], table.max_ages[objects], regions.astype(np.int64),
        names,
    )  # fmt: skip


# ---- load balancing ------------------------------------------------------------------------


def consistent_ring(edges: int, objects: int, vnodes: int = 160) -> npt.NDArray[np.int64]:
    """Edge of every object id on a ketama-style ring (md5 points, `vnodes` per edge)."""
    points = sorted(
        (
            int.from_bytes(
                hashlib.md5(f"edge-{e}-{v}".encode(), usedforsecurity=False).digest()[:8], "big"
            ),
            e,
        )
        for e in range(edges)
        for v in range(vnodes)
    )
    keys = [p for p, _ in points]
    owner = np.empty(objects, dtype=np.int64)
    for obj in range(objects):
        digest = hashlib.md5(f"/cdn/origin/objects/{obj}".encode(), usedforsecurity=False)
        index = bisect_left(keys, int.from_bytes(digest.digest()[:8], "big")) % len(keys)
        owner[obj] = points[index][1]
    return owner


def assign_edges(
    workload: Workload, config: CdnConfig, lb: str, busy_ms: npt.NDArray[np.float64] | None = None
) -> npt.NDArray[np.int64]:
    edges = len(config.edges)
    if lb == "uri-consistent":
        return consistent_ring(edges, config.objects)[workload.objects]
    if lb == "roundrobin":
        return np.arange(len(workload), dtype=np.int64) % edges
    # leastconn: fewest requests in flight, each busy for its (estimated) service time.
    busy = busy_ms if busy_ms is not None else np.full(len(workload), 5.0)
    active: list[list[float]] = [[] for _ in range(edges)]
    chosen = np.empty(len(workload), dtype=np.int64)
    times = workload.times
    pointer = 0
    for i in range(len(workload)):
        now = times[i]
        best, best_count = 0, math.inf
        for offset in range(edges):
            e = (pointer + offset) % edges
            heap = active[e]
            while heap and heap[0] <= now:
                heapq.heappop(heap)
            if len(heap) < best_count:
                best, best_count = e, len(heap)
        heapq.heappush(active[best], now + busy[i] / 1000)
        chosen[i] = best
        pointer = (best + 1) % edges
    return chosen


# ---- cache policies ------------------------------------------------------------------------


class Cache(Protocol):
    def request(self, key: int, size: int, now: float, max_age: float) -> bool:
        """True on a hit; on a miss the object is fetched and (if it fits) admitted."""
        ...


@dataclass
class LruCache:
    capacity: int
    block: int = 1
    header: int = 0
    inactive_s: float = math.inf
    manager_next: float | None = None
    """nginx: eviction is lazy, by the cache manager, which wakes every MANAGER_PERIOD_S
    (its wait is capped at 10 s) and then removes LRU entries until under max_size; None:
    evict on insertion."""
    entries: OrderedDict[int, tuple[int, float, float]] = field(default_factory=OrderedDict)
    """key -> (charged bytes, stored at, last access)"""
    used: int = 0

    def charge(self, size: int) -> int:
        return -(-(size + self.header) // self.block) * self.block

    def _manager(self, now: float) -> None:
        assert self.manager_next is not None
        while self.manager_next <= now:
            wake = self.manager_next
            for key in [k for k, e in self.entries.items() if wake - e[2] > self.inactive_s]:
                self.used -= self.entries.pop(key)[0]
            while self.entries and self.used >= self.capacity:
                _, (old, _, _) = self.entries.popitem(last=False)
                self.used -= old
            self.manager_next = wake + MANAGER_PERIOD_S

    def request(self, key: int, size: int, now: float, max_age: float) -> bool:
        if self.manager_next is not None:
            self._manager(now)
        entry = self.entries.get(key)
        if entry is not None:
            charged, stored, last = entry
            if now - stored <= max_age and now - last <= self.inactive_s:
                self.entries[key] = (charged, stored, now)
                self.entries.move_to_end(key)
                return True
            del self.entries[key]
            self.used -= charged
        charged = self.charge(size)
        if charged > self.capacity:
            return False
        while self.manager_next is None and self.used + charged > self.capacity:
            _, (old, _, _) = self.entries.popitem(last=False)
            self.used -= old
        self.entries[key] = (charged, now, now)
        self.used += charged
        return False


@dataclass
class HeapCache:
    """LFU, TTL-only and GDSF: evict the lowest priority, with lazy heap deletion."""

    capacity: int
    kind: str
    entries: dict[int, tuple[int, float, int, float]] = field(default_factory=dict)
    """key -> (size, stored at, frequency, priority)"""
    heap: list[tuple[float, int, int]] = field(default_factory=list)
    used: int = 0
    clock: float = 0.0
    tick: int = 0

    def _priority(self, size: int, freq: int, stored: float, max_age: float) -> float:
        if self.kind == "lfu":
            return float(freq)
        if self.kind == "ttl":
            return stored + max_age
        return self.clock + freq / max(size, 1) * 1000.0  # gdsf, cost 1 per fetch

    def request(self, key: int, size: int, now: float, max_age: float) -> bool:
        self.tick += 1
        entry = self.entries.get(key)
        if entry is not None:
            esize, stored, freq, _ = entry
            if now - stored <= max_age:
                priority = self._priority(esize, freq + 1, stored, max_age)
                self.entries[key] = (esize, stored, freq + 1, priority)
                heapq.heappush(self.heap, (priority, self.tick, key))
                return True
            del self.entries[key]
            self.used -= esize
            freq_before = freq
        else:
            freq_before = 0
        if size > self.capacity:
            return False
        while self.used + size > self.capacity:
            priority, _, victim = heapq.heappop(self.heap)
            current = self.entries.get(victim)
            if current is None or current[3] != priority:
                continue  # a stale heap entry
            del self.entries[victim]
            self.used -= current[0]
            if self.kind == "gdsf":
                self.clock = priority
        freq = freq_before + 1 if self.kind == "lfu" else 1
        priority = self._priority(size, freq, now, max_age)
        self.entries[key] = (size, now, freq, priority)
        heapq.heappush(self.heap, (priority, self.tick, key))
        self.used += size
        if len(self.heap) > 4 * len(self.entries) + 1024:
            self.heap = [(e[3], 0, k) for k, e in self.entries.items()]
            heapq.heapify(self.heap)
        return False


def make_cache(
    policy: str, capacity: int, inactive_s: float, manager_start: float | None = None
) -> Cache:
    if policy == "lru":
        return LruCache(capacity)
    if policy == "nginx":
        first = (manager_start or 0.0) + MANAGER_PERIOD_S
        return LruCache(capacity, NGINX_BLOCK, NGINX_HEADER_BYTES, inactive_s, first)
    if policy in {"lfu", "ttl", "gdsf"}:
        return HeapCache(capacity, policy)
    raise ValueError(f"unknown policy {policy!r}")


def belady_hits(keys: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64], capacity: int) -> int:
    """Hits of furthest-next-use eviction (Belady's MIN; with sizes, the classic heuristic)."""
    n = len(keys)
    next_use = np.full(n, n, dtype=np.int64)
    order = np.lexsort((np.arange(n), keys))
    same = keys[order][1:] == keys[order][:-1]
    next_use[order[:-1][same]] = order[1:][same]
    cached: dict[int, int] = {}  # key -> its next use
    heap: list[tuple[int, int]] = []  # (-next use, key)
    used, hits = 0, 0
    key_list, size_list, nxt = keys.tolist(), sizes.tolist(), next_use.tolist()
    size_of = dict(zip(key_list, size_list, strict=True))
    for i in range(n):
        key, size = key_list[i], size_list[i]
        if key in cached:
            hits += 1
        elif size > capacity:
            continue
        else:
            used += size
        cached[key] = nxt[i]
        heapq.heappush(heap, (-nxt[i], key))
        while used > capacity:
            negative, victim = heapq.heappop(heap)
            if cached.get(victim) != -negative:
                continue
            del cached[victim]
            used -= size_of[victim]
    return hits


# ---- the run -------------------------------------------------------------------------------


@dataclass
class SimulationResult:
    hits: npt.NDArray[np.bool_]
    edges: npt.NDArray[np.int64]
    latency_ms: npt.NDArray[np.float64]
    belady_hits: int
    elapsed_s: float

    def figures(self, workload: Workload) -> dict[str, float | int]:
        requests = len(workload)
        hit_ratio = float(self.hits.mean()) if requests else 0.0
        belady = self.belady_hits / requests if requests else 0.0
        total_bytes = int(workload.sizes.sum())
        p50, p95, p99 = np.percentile(self.latency_ms, [50, 95, 99]) if requests else (0, 0, 0)
        return {
            "requests": requests,
            "hit_ratio": round(hit_ratio, 4),
            "byte_hit_ratio": round(
                float(workload.sizes[self.hits].sum()) / max(total_bytes, 1), 4
            ),
            "origin_requests": int(requests - int(self.hits.sum())),
            "latency_ms_p50": round(float(p50), 2),
            "latency_ms_p95": round(float(p95), 2),
            "latency_ms_p99": round(float(p99), 2),
            "belady_hit_ratio": round(belady, 4),
            "fraction_of_belady": round(hit_ratio / belady, 4) if belady else 0.0,
            "elapsed_s": round(self.elapsed_s, 2),
        }


def simulate(
    workload: Workload,
    config: CdnConfig,
    *,
    policy: str | None = None,
    lb: str | None = None,
    edges: npt.NDArray[np.int64] | None = None,
    belady: bool = True,
    seed: int = 0,
    manager_starts: Sequence[float] | None = None,
) -> SimulationResult:
    """Run the trace through the CDN. `policy`/`lb` override the config; `edges` fixes the
    edge of every request (to replay exactly what a real front did); `manager_starts` is when
    each nginx edge's cache manager started (its wake-ups are every 10 s from there)."""
    started = time.perf_counter()
    lb = lb or config.lb
    assigned = edges if edges is not None else assign_edges(workload, config, lb)
    starts = manager_starts or [float(workload.times[0]) if len(workload) else 0.0] * len(
        config.edges
    )
    caches = [
        make_cache(policy or edge.policy, edge.cache_size_bytes, edge.inactive_s, starts[e])
        for e, edge in enumerate(config.edges)
    ]
    hits = np.zeros(len(workload), dtype=np.bool_)
    keys, sizes = workload.objects.tolist(), workload.sizes.tolist()
    times, ages, where = workload.times.tolist(), workload.max_ages.tolist(), assigned.tolist()
    for i in range(len(keys)):
        hits[i] = caches[where[i]].request(keys[i], sizes[i], times[i], ages[i])
    latency = _latencies(workload, config, assigned, hits, seed)
    belady_total = 0
    if belady:
        for e, edge in enumerate(config.edges):
            mask = assigned == e
            belady_total += belady_hits(
                workload.objects[mask], workload.sizes[mask], edge.cache_size_bytes
            )
    return SimulationResult(hits, assigned, latency, belady_total, time.perf_counter() - started)


def _latencies(
    workload: Workload,
    config: CdnConfig,
    edges: npt.NDArray[np.int64],
    hits: npt.NDArray[np.bool_],
    seed: int,
) -> npt.NDArray[np.float64]:
    """Client<->edge link always; edge<->origin link and origin time on a miss; jitter, loss."""
    rng = np.random.default_rng(seed + 1)
    regions = list(workload.region_names)
    edge_regions = [regions.index(edge.region) for edge in config.edges]
    origin = regions.index(config.origin_region)

    def link_arrays(
        a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.float64], ...]:
        lat = np.zeros((len(regions), len(regions)))
        jit, loss, bw = np.zeros_like(lat), np.zeros_like(lat), np.zeros_like(lat)
        for i, ra in enumerate(regions):
            for j, rb in enumerate(regions):
                link = config.link(ra, rb)
                lat[i, j], jit[i, j], loss[i, j] = link.latency_ms, link.jitter_ms, link.loss
                bw[i, j] = link.bandwidth_kbps
        return lat[a, b], jit[a, b], loss[a, b], bw[a, b]

    def draw(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        lat, jit, loss, bw = link_arrays(a, b)
        delay = np.maximum(0.0, lat + rng.uniform(-1, 1, len(lat)) * jit)
        delay += (rng.random(len(lat)) < loss) * 200.0
        with np.errstate(divide="ignore", invalid="ignore"):
            transfer = np.where(bw > 0, workload.sizes * 8 / np.maximum(bw, 1), 0.0)
        return delay + transfer

    edge_region = np.asarray(edge_regions)[edges]
    total = draw(workload.regions, edge_region) + EDGE_SERVICE_MS
    upstream = draw(edge_region, np.full(len(edges), origin)) + ORIGIN_SERVICE_MS
    return total + np.where(hits, 0.0, upstream)


COMPARED_POLICIES = ("lru", "lfu", "ttl", "gdsf", "nginx")


def compare(workload: Workload, config: CdnConfig) -> list[dict[str, float | int | str]]:
    """Every policy under every LB algorithm on the same trace (Belady once per LB)."""
    rows: list[dict[str, float | int | str]] = []
    for lb in ("uri-consistent", "roundrobin", "leastconn"):
        assigned = assign_edges(workload, config, lb)
        belady_total = None
        for policy in COMPARED_POLICIES:
            result = simulate(
                workload, config, policy=policy, edges=assigned, belady=belady_total is None
            )
            if belady_total is None:
                belady_total = result.belady_hits
            result.belady_hits = belady_total
            rows.append({"lb": lb, "policy": policy, **result.figures(workload)})
    return rows
