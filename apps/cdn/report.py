"""PNG figures: the simulator's policy x LB comparison, and the load test's hits vs misses."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def compare_png(rows: Sequence[dict[str, Any]], out: Path, title: str) -> Path:
    """Hit ratio per policy, grouped by LB algorithm, with each LB's Belady ceiling."""
    lbs = list(dict.fromkeys(str(r["lb"]) for r in rows))
    policies = list(dict.fromkeys(str(r["policy"]) for r in rows))
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    width = 0.8 / len(policies)
    for p_index, policy in enumerate(policies):
        values = [
            next(r["hit_ratio"] for r in rows if r["lb"] == lb and r["policy"] == policy)
            for lb in lbs
        ]
        left.bar(np.arange(len(lbs)) + p_index * width, values, width, label=policy)
        p99 = [
            next(r["latency_ms_p99"] for r in rows if r["lb"] == lb and r["policy"] == policy)
            for lb in lbs
        ]
        right.bar(np.arange(len(lbs)) + p_index * width, p99, width, label=policy)
    for l_index, lb in enumerate(lbs):
        ceiling = next(r["belady_hit_ratio"] for r in rows if r["lb"] == lb)
        left.hlines(ceiling, l_index - width / 2, l_index + 0.8 - width / 2, colors="black",
                    linestyles="--", label="Belady" if l_index == 0 else None)  # fmt: skip
    for axis, label in ((left, "hit ratio"), (right, "latency p99 (ms)")):
        axis.set_xticks(np.arange(len(lbs)) + 0.4 - width / 2, lbs)
        axis.set_ylabel(label)
        axis.grid(axis="y", alpha=0.3)
    left.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)
    plt.close(figure)
    return out
