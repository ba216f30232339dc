"""sandbox-images/: Dockerfile invariants, the seccomp profile, the docker backend's arguments."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from apps.runner.config import RunnerConfig
from apps.runner.limits import MIB, Limits
from apps.runner.sandbox import SandboxUnavailable
from apps.runner.sandbox.docker import SECCOMP_PROFILE, DockerSandbox, docker_arguments
from apps.runner.sandbox.seccomp_filter import DENIED_SYSCALLS

IMAGES = Path(__file__).resolve().parents[3] / "sandbox-images"
DOCKERFILES = sorted(IMAGES.glob("*/Dockerfile"))
PINNED = re.compile(r"^[\w./-]+(:\d+(\.\d+){2}[\w.-]*)?(@sha256:[0-9a-f]{64})?$")


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined, parts = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            parts += line[:-1] + " "
            continue
        joined.append(parts + line)
        parts = ""
    return [(row.split(None, 1)[0].upper(), row.split(None, 1)[1]) for row in joined]


def test_there_are_python_and_node_images():
    assert {p.parent.name for p in DOCKERFILES} == {"python", "node"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_every_base_image_is_pinned(dockerfile):
    for kind, args in instructions(dockerfile):
        if kind == "FROM":
            image = args.split()[0]
            assert ":" in image or "@sha256:" in image, image
            assert PINNED.match(image), f"{image} is not pinned to a version or digest"
            assert not image.endswith(":latest")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_nothing_is_added_from_a_remote_url(dockerfile):
    for kind, args in instructions(dockerfile):
        if kind == "ADD":
            assert not re.search(r"(https?|git|ftp)://|git@", args), args


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_the_final_user_is_not_root(dockerfile):
    users = [args.strip() for kind, args in instructions(dockerfile) if kind == "USER"]
    assert users, "no USER instruction: the image would run as root"
    name = users[-1].split(":")[0]
    assert name not in {"root", "0"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_no_package_manager_is_left_in_the_final_stage(dockerfile):
    rows = instructions(dockerfile)
    last_from = max(i for i, (kind, _) in enumerate(rows) if kind == "FROM")
    removal = " ".join(args for kind, args in rows[last_from:] if kind == "RUN")
    for tool in ("/usr/bin/apt*", "/usr/bin/dpkg*", "/var/lib/dpkg"):
        assert tool in removal
    if dockerfile.parent.name == "python":
        assert "pip uninstall" in removal
    else:
        assert "/usr/local/bin/npm" in removal


def test_the_python_image_carries_the_line_tracer():
    rows = instructions(IMAGES / "python" / "Dockerfile")
    assert ("COPY", "apps/runner/sandbox/tracer.py /sandbox/tracer.py") in rows
    assert any(kind == "CMD" and "/sandbox/tracer.py" in args for kind, args in rows)


def test_the_seccomp_profile_denies_what_the_bubblewrap_filter_denies():
    profile = json.loads((IMAGES / "seccomp.json").read_text())
    assert profile["defaultAction"] == "SCMP_ACT_ALLOW"
    assert "architectures" not in profile  # only archMap: 32-bit entry points are killed
    assert all(not arch["subArchitectures"] for arch in profile["archMap"])
    denied = {
        name
        for rule in profile["syscalls"]
        if rule["action"] == "SCMP_ACT_ERRNO" and not rule.get("args")
        for name in rule["names"]
    }
    assert set(DENIED_SYSCALLS) | {"clone3"} == denied
    assert {"socket", "ptrace", "mount", "keyctl", "bpf", "unshare"} <= denied


def test_docker_arguments_apply_every_restriction():
    limits = Limits(cpu_time_s=2.5, memory_bytes=64 * MIB, processes=12, file_size_bytes=4096)
    args = docker_arguments(
        docker="docker", name="run-1", image="img:1.2.3", limits=limits,
        seccomp_profile=SECCOMP_PROFILE,
    )  # fmt: skip
    pairs = set(itertools.pairwise(args))
    assert ("--network", "none") in pairs
    assert "--read-only" in args
    assert ("--user", "10001:10001") in pairs
    assert ("--pids-limit", "12") in pairs
    assert ("--memory", str(64 * MIB)) in pairs and ("--memory-swap", str(64 * MIB)) in pairs
    assert ("--ulimit", "cpu=3:4") in pairs
    assert ("--ulimit", "fsize=4096:4096") in pairs
    assert ("--security-opt", "no-new-privileges") in pairs
    assert ("--security-opt", f"seccomp={SECCOMP_PROFILE}") in pairs
    assert ("--cap-drop", "ALL") in pairs
    assert any(a.startswith("/work:") and "size=" in a for a in args)
    assert args[args.index("img:1.2.3") + 1 :] == ["python3", "-I", "-B", "/sandbox/tracer.py", "-"]
    assert SECCOMP_PROFILE.is_file()


def test_the_docker_backend_runs_programs_where_an_engine_answers():
    sandbox = DockerSandbox(RunnerConfig.from_env())
    try:
        sandbox.check()
    except SandboxUnavailable as exc:
        pytest.skip(f"no Docker engine on this machine, the docker backend is not exercised: {exc}")
    from apps.runner.sandbox import SandboxRequest

    result = sandbox.run(SandboxRequest(language="python", source="print(6 * 7)"))
    assert result.stdout == b"42\n"
