"""JavaScript under bubblewrap: the same attacks, contained by the same limits.

node runs only where each sandbox gets a memory cgroup (V8 cannot live under RLIMIT_AS);
elsewhere these tests are skipped with the reason, and submissions answer 503.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
from dataclasses import replace

import pytest

from apps.runner.sandbox import SandboxRequest, SandboxResult
from apps.runner.sandbox.bubblewrap import BubblewrapSandbox
from tests.apps.runner.conftest import SHORT


@pytest.fixture(scope="module")
def node(sandbox: BubblewrapSandbox) -> BubblewrapSandbox:
    reason = sandbox.unsupported("javascript")
    if reason:
        pytest.skip(f"javascript cannot run here: {reason}")
    return sandbox


def run(sandbox: BubblewrapSandbox, source: str, **limits: object) -> SandboxResult:
    request = SandboxRequest(
        language="javascript", source=textwrap.dedent(source), limits=replace(SHORT, **limits)
    )
    return sandbox.run(request)


def test_a_plain_program_runs_with_an_empty_environment(node):
    result = run(node, "console.log(JSON.stringify(Object.keys(process.env)), 6 * 7)")
    assert (result.exit_code, result.limit_hit) == (0, None)
    keys, answer = result.stdout.decode().rsplit(" ", 1)
    assert answer.strip() == "42"
    assert set(json.loads(keys)) <= {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONIOENCODING",
                                     "PYTHONUNBUFFERED", "PWD"}  # fmt: skip


def test_an_infinite_loop_hits_the_cpu_limit(node):
    result = run(node, "while (true) {}", wall_time_s=10.0)
    assert result.limit_hit == "cpu_time"
    assert result.signal == signal.SIGXCPU


@pytest.mark.parametrize(
    "source",
    [
        "const a = []; while (true) { a.push(new Array(1e6).fill(1)); }",
        "const a = []; while (true) { a.push(Buffer.alloc(1e7, 1)); }",
    ],
    ids=["v8-heap", "off-heap-buffers"],
)
def test_memory_bombs_hit_the_memory_limit(node, source):
    # A CPU budget the bomb cannot use up first: on a loaded machine, reclaim at the memory
    # limit burns system time, and a 1 s budget can run out before the OOM kill.
    result = run(node, source, cpu_time_s=5.0, wall_time_s=10.0)
    assert result.limit_hit == "memory"
    assert result.signal in (signal.SIGABRT, signal.SIGKILL)
    assert result.peak_memory_bytes <= SHORT.memory_bytes


def _evict_from_page_cache(binary: str) -> None:
    """Drop `binary` and its libraries from the page cache (pages no process maps)."""
    listing = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False)
    libraries = [row.split()[2] for row in listing.stdout.splitlines() if "=> /" in row]
    for path in [binary, *libraries]:
        descriptor = os.open(os.path.realpath(path), os.O_RDONLY)
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def test_a_bomb_that_makes_node_refault_its_own_code_is_killed_for_memory(node):
    # With node's code out of the page cache, the sandbox reads it back in and the pages are
    # charged to the sandbox's cgroup. At the limit the kernel then reclaims them rather
    # than OOM-kill, and node refaults its own code until a time limit: the supervisor
    # must see the thrash and end it as `memory`.
    _evict_from_page_cache(node.config.node)
    result = run(node, "const a = []; while (true) { a.push(Buffer.alloc(1e7, 1)); }",
                 cpu_time_s=5.0, wall_time_s=10.0)  # fmt: skip
    assert result.limit_hit == "memory"
    assert result.signal == signal.SIGKILL
    assert result.wall_time_s < 5.0


def test_sleeping_past_the_wall_time_is_killed(node):
    result = run(node, "setTimeout(() => {}, 60000);", wall_time_s=1.0)
    assert result.limit_hit == "wall_time"


def test_writing_a_gigabyte_file_hits_the_file_size_limit(node):
    result = run(node, """
        const fs = require("fs");
        const block = Buffer.alloc(1 << 20);
        for (let i = 0; i < 1024; i++) fs.appendFileSync("big.bin", block);
    """)  # fmt: skip
    assert result.limit_hit == "file_size"


def test_an_output_flood_is_truncated_and_stopped(node):
    source = (
        "const fs = require('fs'); const s = 'x'.repeat(65536); while (true) fs.writeSync(1, s);"
    )
    result = run(node, source)
    assert result.truncated
    assert result.limit_hit == "output"
    assert len(result.stdout) == SHORT.output_bytes


@pytest.mark.parametrize("address", ["127.0.0.1", "1.1.1.1"])
def test_sockets_cannot_be_created(node, address):
    result = run(node, f"""
        const net = require("net");
        const socket = net.connect(80, "{address}");
        socket.on("connect", () => console.log("connected"));
        socket.on("error", (error) => console.log(error.code));
    """)  # fmt: skip
    assert result.stdout.strip() == b"EPERM"


def test_child_processes_cannot_be_spawned(node):
    result = run(node, """
        const { spawnSync } = require("child_process");
        const child = spawnSync("/usr/bin/node", ["-e", "1"]);
        console.log(child.error ? child.error.code : "spawned");
    """)  # fmt: skip
    assert result.stdout.strip() == b"EPERM"


def test_host_files_are_not_visible(node):
    result = run(node, """
        const fs = require("fs");
        for (const path of ["/etc/shadow", "/etc/passwd", "/root", "/home"]) {
          console.log(fs.existsSync(path));
        }
    """)  # fmt: skip
    assert result.stdout.split() == [b"false"] * 4
