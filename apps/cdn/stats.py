"""Edge figures from the nginx access logs (`log_format cdn` in the edge template).

`cdn status` reads whole logs; the exporter (`apps.cdn.exporter`) tails them. A request is a
hit when the edge answered from its cache without asking the origin (HIT, STALE, UPDATING);
REVALIDATED and EXPIRED paid an origin round trip and count as misses.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HIT_STATUSES = frozenset({"hit", "stale", "updating"})
SERVED_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class LogLine:
    time: float
    method: str
    status: int
    cache: str
    """Lower-case $upstream_cache_status; `none` when nginx did not use the cache."""
    bytes_sent: int
    request_time: float
    upstream_time: float | None
    uri: str

    @property
    def hit(self) -> bool:
        return self.cache in HIT_STATUSES


def parse_line(line: str) -> LogLine | None:
    """One `cdn` log line, or None for a line that is not one (partial write, other format)."""
    parts = line.split()
    if len(parts) < 8:
        return None
    try:
        upstream = [float(v.rstrip(",")) for v in parts[6:-1] if v.rstrip(",") not in {"-", ""}]
        return LogLine(
            time=float(parts[0]),
            method=parts[1],
            status=int(parts[2]),
            cache="none" if parts[3] == "-" else parts[3].lower(),
            bytes_sent=int(parts[4]),
            request_time=float(parts[5]),
            upstream_time=sum(upstream) if upstream else None,
            uri=parts[-1],
        )
    except ValueError:
        return None


@dataclass
class EdgeStats:
    requests: int = 0
    hits: int = 0
    bytes_served: int = 0
    hit_bytes: int = 0
    by_cache: Counter[str] = field(default_factory=Counter)

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.requests if self.requests else 0.0

    def add(self, line: LogLine) -> None:
        if line.method not in SERVED_METHODS:
            return
        self.requests += 1
        self.bytes_served += line.bytes_sent
        self.by_cache[line.cache] += 1
        if line.hit:
            self.hits += 1
            self.hit_bytes += line.bytes_sent


def read_lines(path: Path, offset: int = 0) -> tuple[list[LogLine], int]:
    """Complete lines of `path` from byte `offset`; returns them and the offset to go on from."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except FileNotFoundError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    lines = [parse_line(raw) for raw in chunk[:end].decode(errors="replace").splitlines()]
    return [line for line in lines if line is not None], offset + end


def edge_stats(path: Path) -> EdgeStats:
    stats = EdgeStats()
    for line in read_lines(path)[0]:
        stats.add(line)
    return stats
