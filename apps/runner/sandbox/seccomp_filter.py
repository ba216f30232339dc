"""The seccomp filter of the bubblewrap backend (libseccomp through `pyseccomp`).

Everything is allowed except the calls below, which fail with EPERM: no socket of any
family (the net namespace already has no interface; this also stops raw syscalls through
ctypes), no tracing, no mounts or namespaces, no kernel keyrings, modules, BPF or perf.
Other architectures (x32, i386 through int 0x80) are killed by libseccomp's default.
The same list is in sandbox-images/seccomp.json for the docker backend.
"""

from __future__ import annotations

import errno
import tempfile
from typing import IO

DENIED_SYSCALLS = (
    "socket",
    "socketpair",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "userfaultfd",
    "open_by_handle_at",
    "name_to_handle_at",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "fanotify_init",
    "lookup_dcookie",
    "quotactl",
    "syslog",
    "vhangup",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "mbind",
    "move_pages",
    "migrate_pages",
)
NAMESPACE_FLAGS = (
    0x00020000,
    0x02000000,
    0x04000000,
    0x08000000,
    0x10000000,
    0x20000000,
    0x40000000,
)
"""CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET: clone() makes no namespace."""


PERSONALITY_FLAGS = (0x0040000, 0x0400000)
"""ADDR_NO_RANDOMIZE and READ_IMPLIES_EXEC: no turning off ASLR or NX for a child."""


def compile_filter() -> IO[bytes]:
    """The filter as BPF in an open temporary file, rewound, ready for `bwrap --seccomp FD`."""
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError, OSError):
            continue  # a call this kernel/architecture does not have
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(
            seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag)
        )
    for flag in PERSONALITY_FLAGS:
        rules.add_rule(
            seccomp.ERRNO(errno.EPERM),
            "personality",
            seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag),
        )
    # clone3 passes flags in memory seccomp cannot read: ENOSYS makes libc fall back to clone.
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - returned open, closed by the caller
    rules.export_bpf(handle)
    handle.flush()
    handle.seek(0)
    return handle
