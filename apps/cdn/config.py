"""One CDN as data: edges (region, cache size, policy), the load-balancing algorithm, and the
per-region latency/jitter/loss matrix. Validated here; rendered by `apps.cdn.render`.

`CdnConfig` is what `cdn up`, the simulator and (later) the pyinfra `edge`/`lb` roles read.
`parse_config(dict)` turns JSON/YAML data into it, raising `ConfigError` naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

LbAlgorithm = Literal["uri-consistent", "roundrobin", "leastconn"]
Policy = Literal["lru", "lfu", "ttl", "gdsf", "nginx"]
LB_ALGORITHMS: tuple[str, ...] = ("uri-consistent", "roundrobin", "leastconn")
POLICIES: tuple[str, ...] = ("lru", "lfu", "ttl", "gdsf", "nginx")
DEFAULT_REGIONS = ("eu", "us", "ap")
# One-way milliseconds between regions (symmetric); within a region: 1 ms.
DEFAULT_LATENCY_MS = {("eu", "us"): 40.0, ("us", "ap"): 60.0, ("eu", "ap"): 90.0}

Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{0,30}$")]


class ConfigError(ValueError):
    """A CDN configuration that cannot run; `field` names where it is wrong."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


class Link(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Toxiproxy's model of one network link: latency ± jitter, loss, bandwidth, down."""

    latency_ms: Annotated[float, msgspec.Meta(ge=0, le=10_000)] = 0.0
    jitter_ms: Annotated[float, msgspec.Meta(ge=0, le=10_000)] = 0.0
    loss: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0
    """Share of chunks that pay a retransmission timeout (TCP does not lose them)."""
    bandwidth_kbps: Annotated[int, msgspec.Meta(ge=0)] = 0
    """0 means unlimited."""
    down: bool = False

    def scaled(self, factor: float) -> Link:
        return msgspec.structs.replace(
            self, latency_ms=self.latency_ms * factor, jitter_ms=self.jitter_ms * factor
        )


class Edge(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name
    region: Name
    cache_size_bytes: Annotated[int, msgspec.Meta(ge=64 * 1024)] = 64 * 1024 * 1024
    """nginx `max_size` of the edge's proxy_cache_path."""
    inactive_s: Annotated[int, msgspec.Meta(ge=1)] = 600
    """nginx `inactive`: an entry not asked for this long is removed."""
    policy: Policy = "nginx"
    """Eviction policy; a real nginx edge is always `nginx` (LRU by size); others: simulator."""


class RouteLatency(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    a: Name
    b: Name
    link: Link


class CdnConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    edges: list[Edge]
    lb: LbAlgorithm = "uri-consistent"
    regions: list[Name] = msgspec.field(default_factory=lambda: list(DEFAULT_REGIONS))
    origin_region: Name = "us"
    front_region: Name = "eu"
    """Where the HAProxy front (and the clients it serves) sits."""
    latency: list[RouteLatency] = msgspec.field(default_factory=list)
    """Region pairs (either order); a missing pair is 1 ms within a region, else an error."""
    objects: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 1000
    seed: Annotated[int, msgspec.Meta(ge=0)] = 0
    health_check_interval_ms: Annotated[int, msgspec.Meta(ge=100, le=60_000)] = 1000
    health_check_fall: Annotated[int, msgspec.Meta(ge=1, le=10)] = 2

    def link(self, a: str, b: str) -> Link:
        for route in self.latency:
            if {route.a, route.b} == {a, b}:
                return route.link
        if a == b:
            return Link(latency_ms=1.0, jitter_ms=0.2)
        raise ConfigError("latency", f"no latency between regions {a!r} and {b!r}")

    def edge(self, name: str) -> Edge:
        for edge in self.edges:
            if edge.name == name:
                return edge
        raise KeyError(name)

    @property
    def total_cache_bytes(self) -> int:
        return sum(edge.cache_size_bytes for edge in self.edges)


def validate(config: CdnConfig) -> CdnConfig:
    """Cross-field rules msgspec cannot state; returns the config or raises ConfigError."""
    if not config.edges:
        raise ConfigError("edges", "a CDN needs at least one edge")
    names = [edge.name for edge in config.edges]
    if len(set(names)) != len(names):
        raise ConfigError("edges", f"edge names repeat: {names}")
    if len(set(config.regions)) != len(config.regions):
        raise ConfigError("regions", "regions repeat")
    known = set(config.regions)
    for index, edge in enumerate(config.edges):
        if edge.region not in known:
            raise ConfigError(f"edges[{index}].region", f"{edge.region!r} is not in regions")
    for field in ("origin_region", "front_region"):
        if getattr(config, field) not in known:
            raise ConfigError(field, f"{getattr(config, field)!r} is not in regions")
    for index, route in enumerate(config.latency):
        for end in ("a", "b"):
            if getattr(route, end) not in known:
                raise ConfigError(f"latency[{index}].{end}", "not one of regions")
    for a in config.regions:
        for b in config.regions:
            config.link(a, b)
    return config


def parse_config(data: Any) -> CdnConfig:
    """A validated CdnConfig from plain data (parsed JSON or YAML)."""
    try:
        config = msgspec.convert(data, CdnConfig, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = message.rsplit("at `$.", 1)[-1].rstrip("`") if "at `$." in message else "config"
        raise ConfigError(field, message.split(" - at ")[0]) from None
    return validate(config)


def default_config(
    edges: int = 3,
    lb: str = "uri-consistent",
    *,
    objects: int = 1000,
    cache_size_bytes: int = 64 * 1024 * 1024,
    inactive_s: int = 600,
    policy: str = "nginx",
    latency_scale: float = 1.0,
    seed: int = 0,
) -> CdnConfig:
    """N edges spread over eu/us/ap, origin in us, the front in eu, a plausible matrix."""
    latency = [
        {
            "a": a,
            "b": b,
            "link": {"latency_ms": ms * latency_scale, "jitter_ms": ms * latency_scale / 10},
        }
        for (a, b), ms in DEFAULT_LATENCY_MS.items()
    ]
    latency += [
        {
            "a": r,
            "b": r,
            "link": {"latency_ms": 1.0 * latency_scale, "jitter_ms": 0.2 * latency_scale},
        }
        for r in DEFAULT_REGIONS
    ]
    return parse_config(
        {
            "edges": [
                {
                    "name": f"edge-{i + 1}",
                    "region": DEFAULT_REGIONS[i % len(DEFAULT_REGIONS)],
                    "cache_size_bytes": cache_size_bytes,
                    "inactive_s": inactive_s,
                    "policy": policy,
                }
                for i in range(edges)
            ],
            "lb": lb,
            "latency": latency,
            "objects": objects,
            "seed": seed,
        }
    )
