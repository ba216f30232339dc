"""The control plane of a local CDN: start the origin, the latency proxies, N nginx edges and
the HAProxy front as child processes on 127.0.0.1, record them in `state.json`, stop them.

Topology (every arrow a TCP link through `apps.cdn.latency`, except client -> front):

    client -> HAProxy front -> [front_region<->edge.region] -> nginx edge
                               nginx edge -> [edge.region<->origin_region] -> origin

Every file (configs, pid files, cache and temp dirs, logs) lives under the state dir;
nothing touches /etc/nginx or /etc/haproxy.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
import msgspec

from apps.cdn import render
from apps.cdn.config import CdnConfig
from apps.cdn.exporter import EdgeExporter, haproxy_health
from apps.cdn.stats import edge_stats

STATE_FILE = "state.json"
START_TIMEOUT_S = 60.0


class CdnError(RuntimeError):
    """The local CDN could not start, or its state is not what a command needs."""


def missing_binaries() -> list[str]:
    """Debian packages `cdn up` needs and does not find (`make cdn-deps` installs them)."""
    missing = [name for name in ("nginx", "haproxy") if shutil.which(name) is None]
    if not render.PURGE_MODULE.exists():
        missing.append("libnginx-mod-http-cache-purge")
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EdgeInfo:
    name: str
    region: str
    url: str
    """The nginx edge itself (direct; PURGE and status go here)."""
    proxied: str
    """host:port of the latency proxy HAProxy sends this edge's traffic through."""
    folder: str
    pid: int = 0


@dataclass
class CdnState:
    supervisor_pid: int
    front: str
    origin: str
    stats: str
    metrics: str
    edges: list[EdgeInfo]
    pids: dict[str, int] = field(default_factory=dict)
    origin_via_network: str = ""
    """The origin through the front_region<->origin_region link: the no-CDN baseline."""
    config: dict[str, Any] = field(default_factory=dict)

    def save(self, folder: Path) -> None:
        (folder / STATE_FILE).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, folder: Path) -> CdnState:
        path = folder / STATE_FILE
        if not path.exists():
            raise CdnError(f"no CDN is running from {folder} (no {STATE_FILE})")
        raw = json.loads(path.read_text())
        raw["edges"] = [EdgeInfo(**edge) for edge in raw["edges"]]
        return cls(**raw)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalCdn:
    """Starts and stops one local CDN; used by `stackyard cdn up` and the tests."""

    def __init__(self, config: CdnConfig, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.exporter: EdgeExporter | None = None
        self.state: CdnState | None = None

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.folder / "logs" / f"{name}.log").open("ab")
        self.children[name] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            cwd=self.folder,
        )  # fmt: skip
        log.close()

    def start(self, announce: TextIO | None = None) -> CdnState:
        """Start everything and wait until it serves; on failure stop what started and raise."""
        if missing := missing_binaries():
            raise CdnError(f"missing Debian packages: {' '.join(missing)} (run `make cdn-deps`)")
        existing = self.folder / STATE_FILE
        if existing.exists():
            state = CdnState.load(self.folder)
            if pid_alive(state.supervisor_pid):
                raise CdnError(f"a CDN already runs from {self.folder}: `stackyard cdn down` first")
            existing.unlink()
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        try:
            state = self._start_all()
        except BaseException:
            self.stop()
            raise
        if announce is not None:
            lines = [f"front {state.front}"]
            lines += [f"{edge.name} {edge.url}" for edge in state.edges]
            lines += [f"origin {state.origin}", f"metrics {state.metrics}"]
            for line in lines:
                announce.write(line + "\n")
                announce.flush()
        return state

    def _start_all(self) -> CdnState:
        config = self.config
        origin_port = free_port()
        origin = f"http://127.0.0.1:{origin_port}"
        edges = [
            EdgeInfo(
                name=edge.name,
                region=edge.region,
                url=f"http://127.0.0.1:{free_port()}",
                proxied=f"127.0.0.1:{free_port()}",
                folder=str(self.folder / edge.name),
            )
            for edge in config.edges
        ]
        state = CdnState(
            supervisor_pid=os.getpid(),
            front=f"http://127.0.0.1:{free_port()}",
            origin=origin,
            stats=f"http://127.0.0.1:{free_port()}",
            metrics=f"http://127.0.0.1:{free_port()}",
            edges=edges,
            config=msgspec.to_builtins(config),
        )
        self.state = state
        # 1. The origin: the cdn app alone under granian, told where the edges are.
        env = dict(
            os.environ,
            STACKYARD_DATA_DIR=str(self.folder / "origin"),
            STACKYARD_EMBEDDED_WORKER="false",
            STACKYARD_CDN_OBJECTS=str(config.objects),
            STACKYARD_CDN_SEED=str(config.seed),
            STACKYARD_CDN_EDGES=",".join(f"{e.name}={e.url}" for e in edges),
            STACKYARD_CDN_EDGE_CACHES=",".join(f"{e.name}={e.folder}/cache" for e in edges),
            LOG_LEVEL="WARNING",
        )
        self._spawn("origin", _granian(origin_port), env)
        # 2. Latency proxies: front->edge per edge, edge->origin per edge.
        links = []
        origin_links: dict[str, str] = {}
        for edge, info in zip(config.edges, edges, strict=True):
            links.append(
                {
                    "name": f"front-{edge.name}",
                    "listen": info.proxied,
                    "upstream": info.url.removeprefix("http://"),
                    "link": msgspec.to_builtins(config.link(config.front_region, edge.region)),
                }
            )
            origin_links[edge.name] = f"127.0.0.1:{free_port()}"
            links.append(
                {
                    "name": f"{edge.name}-origin",
                    "listen": origin_links[edge.name],
                    "upstream": f"127.0.0.1:{origin_port}",
                    "link": msgspec.to_builtins(config.link(edge.region, config.origin_region)),
                }
            )
        state.origin_via_network = f"http://127.0.0.1:{free_port()}"
        links.append(
            {
                "name": "client-origin",
                "listen": state.origin_via_network.removeprefix("http://"),
                "upstream": f"127.0.0.1:{origin_port}",
                "link": msgspec.to_builtins(config.link(config.front_region, config.origin_region)),
            }
        )
        (self.folder / "links.json").write_text(json.dumps(links, indent=2))
        self._spawn(
            "latency", [sys.executable, "-m", "apps.cdn.latency", str(self.folder / "links.json")]
        )
        # 3. nginx edges.
        user = getpass.getuser() if os.geteuid() == 0 else ""
        for edge, info in zip(config.edges, edges, strict=True):
            folder = Path(info.folder)
            shutil.rmtree(folder, ignore_errors=True)
            (folder / "temp").mkdir(parents=True)
            context = render.nginx_context(
                edge,
                listen=info.url.removeprefix("http://"),
                origin=origin_links[edge.name],
                folder=folder,
                user=user,
            )
            (folder / "nginx.conf").write_text(render.nginx_config(context))
            self._spawn(
                edge.name,
                ["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf"),
                 "-e", str(folder / "error.log")],
            )  # fmt: skip
        # 4. HAProxy front.
        servers = [{"name": info.name, "address": info.proxied} for info in edges]
        context = render.haproxy_context(
            config,
            listen=state.front.removeprefix("http://"),
            servers=servers,
            pid=self.folder / "haproxy.pid",
            stats_listen=state.stats.removeprefix("http://"),
        )
        (self.folder / "haproxy.cfg").write_text(render.haproxy_config(context))
        self._spawn("haproxy", ["haproxy", "-db", "-f", str(self.folder / "haproxy.cfg")])
        # Wait until every piece serves, the HAProxy checks included.
        deadline = time.monotonic() + START_TIMEOUT_S
        self._wait_http("origin", f"{origin}/health", deadline)
        for info in edges:
            self._wait_http(info.name, f"{info.url}/health", deadline)
            info.pid = self.children[info.name].pid
        self._wait_http("haproxy", f"{state.front}/health", deadline)
        while not all(haproxy_health(state.stats).get(e.name) for e in edges):
            self._check_deadline("haproxy health checks", deadline)
            time.sleep(0.1)
        # 5. The exporter, then the state file `cdn down` and `cdn status` read.
        self.exporter = EdgeExporter(
            {e.name: Path(e.folder) / "access.log" for e in edges}, state.stats
        )
        self.exporter.start(int(state.metrics.rsplit(":", 1)[1]))
        state.pids = {name: child.pid for name, child in self.children.items()}
        state.save(self.folder)
        return state

    def _check_deadline(self, what: str, deadline: float) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                log = (self.folder / "logs" / f"{name}.log").read_text(errors="replace")[-1500:]
                raise CdnError(f"{name} exited with {child.returncode} while starting:\n{log}")
        if time.monotonic() > deadline:
            raise CdnError(f"{what} did not come up within {START_TIMEOUT_S:.0f} s")

    def _wait_http(self, name: str, url: str, deadline: float) -> None:
        while True:
            self._check_deadline(name, deadline)
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    def exited(self) -> dict[str, int]:
        """Children that have exited, with their return codes."""
        return {
            name: child.returncode
            for name, child in self.children.items()
            if child.poll() is not None
        }

    def stop(self) -> None:
        """SIGTERM every child's process group (nginx workers too), SIGKILL what lingers."""
        if self.exporter is not None:
            self.exporter.stop()
        for child in reversed(list(self.children.values())):
            _signal_group(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child.pid, signal.SIGKILL)
                child.wait()
        for child in self.children.values():
            _signal_group(child.pid, signal.SIGKILL)  # stray nginx workers of a killed master
        (self.folder / STATE_FILE).unlink(missing_ok=True)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _granian(port: int) -> list[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
        "apps.cdn.origin:create_origin_app", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--log-level", "warning",
    ]  # fmt: skip


def stop_recorded(folder: Path, timeout: float = 20.0) -> list[str]:
    """`cdn down`: stop the supervisor of `folder` (it stops its children), then any recorded
    child left behind (a supervisor killed with SIGKILL). Returns what was stopped."""
    state = CdnState.load(folder)
    stopped: list[str] = []
    if pid_alive(state.supervisor_pid):
        os.kill(state.supervisor_pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(state.supervisor_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        stopped.append(f"supervisor {state.supervisor_pid}")
    for name, pid in state.pids.items():
        if pid_alive(pid):
            _signal_group(pid, signal.SIGTERM)
            time.sleep(0.2)
            _signal_group(pid, signal.SIGKILL)
            stopped.append(f"{name} {pid}")
    (folder / STATE_FILE).unlink(missing_ok=True)
    return stopped


def status(folder: Path) -> list[dict[str, Any]]:
    """Each edge's health (HAProxy check and its own /health), requests, hit ratio, bytes."""
    state = CdnState.load(folder)
    checks = haproxy_health(state.stats)
    rows = []
    for edge in state.edges:
        try:
            answers = httpx.get(f"{edge.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            answers = False
        stats = edge_stats(Path(edge.folder) / "access.log")
        rows.append(
            {
                "edge": edge.name,
                "region": edge.region,
                "url": edge.url,
                "health": "up" if answers and checks.get(edge.name) else "down",
                "haproxy_check": "UP" if checks.get(edge.name) else "DOWN",
                "requests": stats.requests,
                "hit_ratio": round(stats.hit_ratio, 4),
                "bytes_served": stats.bytes_served,
                "by_cache": dict(stats.by_cache),
            }
        )
    return rows
