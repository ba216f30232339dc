"""cdn: Zipf-distributed object fetches from several regions through a `cdn up` it starts.

Besides the runner's CSVs and report.png it writes `cdn_report.png` (hit and miss latency
percentiles over time, hit ratio over time) and `cdn_summary.json`, and prints one line:
p50/p95/p99 for hits and misses, the hit ratio, and edge-hit p99 / origin-direct p99.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from loadtests.scenarios import Scenario, register

LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfiles" / "cdn.py"
HIT = {"HIT", "STALE", "UPDATING"}


@contextmanager
def local_cdn() -> Iterator[str]:
    from apps.cdn.config import default_config
    from apps.cdn.control import LocalCdn

    edges = int(os.environ.get("STACKYARD_CDN_EDGES_COUNT", "3"))
    objects = int(os.environ.get("STACKYARD_CDN_OBJECTS", "1000"))
    config = default_config(edges, os.environ.get("STACKYARD_CDN_LB", "uri-consistent"),
                            objects=objects, cache_size_bytes=8 * 1024 * 1024)  # fmt: skip
    log_hint = os.environ.get("STACKYARD_LOADTEST_SERVER_LOG")
    results = Path(log_hint).parent if log_hint else Path(tempfile.mkdtemp())
    with tempfile.TemporaryDirectory(prefix="stackyard-cdn-load-") as folder:
        cdn = LocalCdn(config, Path(folder))
        state = cdn.start()
        request_log = results / "cdn_requests.csv"
        saved = {
            k: os.environ.get(k) for k in ("STACKYARD_CDN_ORIGIN_URL", "STACKYARD_CDN_REQUEST_LOG")
        }
        os.environ["STACKYARD_CDN_ORIGIN_URL"] = state.origin_via_network
        os.environ["STACKYARD_CDN_REQUEST_LOG"] = str(request_log)
        os.environ["STACKYARD_CDN_OBJECTS"] = str(objects)
        try:
            yield state.front
        finally:
            cdn.stop()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            if request_log.exists():
                print(summarize(request_log, results), flush=True)


def summarize(request_log: Path, folder: Path) -> str:
    """cdn_report.png and cdn_summary.json from the per-request CSV; returns the summary line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        line.split(",") for line in request_log.read_text().splitlines() if line.count(",") == 4
    ]
    t = np.array([float(r[0]) for r in rows])
    ms = np.array([float(r[3]) for r in rows])
    origin = np.array([r[1] == "origin-direct" for r in rows])
    hit = np.array([r[2] in HIT for r in rows]) & ~origin
    miss = ~hit & ~origin

    def pct(mask: np.ndarray) -> list[float]:
        return (
            [round(float(v), 1) for v in np.percentile(ms[mask], [50, 95, 99])]
            if mask.any()
            else [0.0] * 3
        )

    summary = {
        "hit": pct(hit), "miss": pct(miss), "origin_direct": pct(origin),
        "hit_ratio": round(float(hit.sum() / max(1, (hit | miss).sum())), 4),
    }  # fmt: skip
    summary["edge_hit_p99_over_origin_p99"] = (
        round(summary["hit"][2] / summary["origin_direct"][2], 3)
        if summary["origin_direct"][2]
        else None
    )
    (folder / "cdn_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    second = np.floor(t - t.min()) if len(t) else t
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for label, mask, color in (("hit", hit, "tab:green"), ("miss", miss, "tab:red")):
        for q, style in ((50, "-"), (95, "--"), (99, ":")):
            xs = sorted(set(second[mask].tolist()))
            ys = [np.percentile(ms[mask & (second == x)], q) for x in xs]
            top.plot(xs, ys, style, color=color, label=f"{label} p{q}")
    top.set_ylabel("response time (ms)")
    top.set_yscale("log")
    top.legend(fontsize=7, ncol=2)
    xs = sorted(set(second[hit | miss].tolist()))
    bottom.plot(xs, [hit[second == x].sum() / max(1, (hit | miss)[second == x].sum()) for x in xs])
    bottom.set_ylabel("hit ratio")
    bottom.set_xlabel("seconds into the run")
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(folder / "cdn_report.png", dpi=100)
    plt.close(figure)
    h, m = summary["hit"], summary["miss"]
    return (
        f"cdn: hits p50/p95/p99 {h[0]}/{h[1]}/{h[2]} ms, misses {m[0]}/{m[1]}/{m[2]} ms, "
        f"hit ratio {summary['hit_ratio']:.1%}, edge-hit p99 / origin-direct p99 "
        f"{summary['edge_hit_p99_over_origin_p99']}"
    )


SCENARIO = register(
    Scenario(
        name="cdn",
        locustfile=LOCUSTFILE,
        target=local_cdn,
        description="Zipf object fetches from eu/us/ap users through a local CDN (cdn up).",
    )
)
