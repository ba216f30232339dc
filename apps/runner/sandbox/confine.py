"""Applies a sandbox's rlimits, cgroups and niceness to itself, then execs bubblewrap.

Run as the slot's uid (`python3 -I -S -c <this file> SPEC bwrap ...`), so the server never
runs Python between fork and exec (`preexec_fn` can deadlock a threaded parent).
SPEC is JSON: {"rlimits": [[name, soft, hard], ...], "join": [cgroup.procs, ...], "nice": N}.
Standard library only.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys


def main() -> None:
    spec = json.loads(sys.argv[1])
    for path in spec["join"]:
        with open(path, "w") as handle:
            handle.write("0")
    for name, soft, hard in spec["rlimits"]:
        resource.setrlimit(getattr(resource, name), (soft, hard))
    os.nice(spec["nice"])
    # Python ignores these at startup and exec keeps ignored signals: give them back.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    os.execv(sys.argv[2], sys.argv[2:])  # noqa: S606 - bwrap, by absolute path


if __name__ == "__main__":
    main()
