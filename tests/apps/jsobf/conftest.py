"""Shared helpers: running JavaScript under node, in parallel, and the corpus."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"
NODE = shutil.which("node")


def corpus_programs() -> list[Path]:
    return sorted(path for path in CORPUS.glob("*.js") if not path.name.endswith(".obs.js"))


def run_node(path: Path) -> tuple[int, str, str]:
    """Exit status, stdout and stderr's last line of one program run under node."""
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(path)], capture_output=True, text=True, timeout=60, cwd=path.parent
    )
    last_error = done.stderr.strip().splitlines()[-1:] if done.returncode else []
    return done.returncode, done.stdout, "".join(last_error)


def run_all(paths: Iterable[Path]) -> dict[Path, tuple[int, str, str]]:
    """Run many programs at once: node start-up, not CPU, is most of each run."""
    paths = list(paths)
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        return dict(zip(paths, pool.map(run_node, paths), strict=True))


needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")
