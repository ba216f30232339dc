"""One throwaway Debian root per test run: debootstrap once, cache a tarball, copy per test.

The tarball lives under `.stackyard/roles-rootfs/` keyed by suite, variant and mirror; a file
lock makes the two xdist workers build it once. Each test gets its own extracted copy with
/proc mounted, the host's resolver, and a policy-rc.d that stops package scripts from starting
daemons on the test machine.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".stackyard" / "roles-rootfs"
DEBS = CACHE / "debs"
SUITE = "bookworm"
VARIANT = "minbase"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Keeps invoke-rc.d from starting nginx, haproxy, redis ... on the machine running the tests.
POLICY_RC_D = "#!/bin/sh\n# roles tests: never start services inside the throwaway root\nexit 101\n"


class MirrorUnreachable(RuntimeError):
    """debootstrap could not fetch the suite from the mirror."""


def host_mirror() -> str:
    """The Debian mirror this machine's apt uses (deb822 or one-line lists), else the default."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        if not path.is_file() or path.suffix not in {"", ".list", ".sources"}:
            continue
        text = path.read_text(errors="replace")
        for match in re.finditer(r"^URIs:\s*(\S+)", text, re.MULTILINE):
            if match.group(1).rstrip("/").endswith("/debian"):
                return match.group(1).rstrip("/")
        for match in re.finditer(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s", text, re.M):
            if match.group(1).rstrip("/").endswith("/debian"):
                return match.group(1).rstrip("/")
    return DEFAULT_MIRROR


def tarball_path(mirror: str) -> Path:
    key = hashlib.sha256(f"{SUITE}|{VARIANT}|{mirror}|{POLICY_RC_D}".encode()).hexdigest()[:12]
    return CACHE / f"debian-{SUITE}-{VARIANT}-{key}.tar"


def _debootstrap(target: Path, mirror: str) -> None:
    result = subprocess.run(
        ["debootstrap", f"--variant={VARIANT}", SUITE, str(target), mirror],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise MirrorUnreachable(f"debootstrap {SUITE} from {mirror} failed: {' | '.join(tail)}")
    (target / "usr/sbin/policy-rc.d").write_text(POLICY_RC_D)
    (target / "usr/sbin/policy-rc.d").chmod(0o755)
    # Package lists inside the tarball, so a role's apt step is a cache hit within the hour.
    shutil.copy("/etc/resolv.conf", target / "etc/resolv.conf")
    sources = f"deb {mirror} {SUITE} main\ndeb {mirror} {SUITE}-updates main\n"
    (target / "etc/apt/sources.list").write_text(sources)
    subprocess.run(["chroot", str(target), "apt-get", "update", "-qq"], check=True, timeout=600)
    subprocess.run(["chroot", str(target), "apt-get", "clean"], check=True)


def ensure_tarball(mirror: str | None = None) -> Path:
    """The cached tarball of the bootstrapped root, built once under a lock if missing."""
    mirror = mirror or host_mirror()
    tarball = tarball_path(mirror)
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tarball.exists():
            return tarball
        build = CACHE / f"build-{tarball.stem}"
        if build.exists():
            shutil.rmtree(build)
        try:
            _debootstrap(build, mirror)
            partial = tarball.with_suffix(".partial")
            subprocess.run(
                ["tar", "--numeric-owner", "-C", str(build), "-cf", str(partial), "."],
                check=True,
            )
            partial.rename(tarball)
        finally:
            _unmount_below(build)
            shutil.rmtree(build, ignore_errors=True)
    return tarball


def _unmount_below(root: Path) -> None:
    for mount in ("proc", "dev/pts"):
        target = root / mount
        if target.is_dir() and subprocess.run(["mountpoint", "-q", str(target)]).returncode == 0:
            subprocess.run(["umount", "-l", str(target)], check=False)


def _share_packages(source: Path, dest: Path) -> None:
    """Hard-link downloaded .deb files across (same file system), so each is fetched once."""
    dest.mkdir(parents=True, exist_ok=True)
    for deb in source.glob("*.deb"):
        target = dest / deb.name
        if not target.exists():
            try:
                target.hardlink_to(deb)
            except OSError:
                shutil.copy2(deb, target)


@contextmanager
def throwaway_root(tarball: Path, parent: Path) -> Iterator[Path]:
    """An extracted copy of the cached root with /proc mounted; unmounted and removed after.

    Packages downloaded by earlier tests are put in its apt cache first, and the ones it
    downloads are kept for the next tests (under `.stackyard/roles-rootfs/debs/`).
    """
    root = parent / "root"
    root.mkdir()
    with tarfile.open(tarball) as archive:
        archive.extractall(root, filter="fully_trusted")
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    archives = root / "var/cache/apt/archives"
    _share_packages(DEBS, archives)
    subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)
    try:
        yield root
    finally:
        _unmount_below(root)
        _share_packages(archives, DEBS)
        shutil.rmtree(root, ignore_errors=True)
