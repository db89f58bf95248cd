"""The mount(2) calls the sandbox makes, through libc (Linux only).

Each call is what a ``mount`` or ``umount`` command line of util-linux would do, without
starting the command: a grading run makes about twenty of them, before its kernel
starts. Every function returns True when the kernel accepted the call, False otherwise
(the sandbox then reports what it could not enforce; ``ctypes.get_errno()`` says why);
none raises.

Flag values are the kernel's (``<sys/mount.h>``); they are the same on every Linux
architecture.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

# The per-mount flags a remount must repeat: in a user namespace the kernel refuses
# (EPERM) a remount that would clear one it locked. statvfs reports them by the same bits.
_KEPT = ("ST_NOSUID", "ST_NODEV", "ST_NOEXEC", "ST_NOATIME", "ST_NODIRATIME", "ST_RELATIME")


@cache
def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _call(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None
) -> bool:
    def raw(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    try:
        return bool(_libc().mount(raw(source), raw(target), raw(fstype), flags, raw(data)) == 0)
    except (OSError, AttributeError):  # no libc, or no mount in it (not Linux)
        return False


def bind(source: str, target: str, recursive: bool = False) -> bool:
    """``mount --bind SOURCE TARGET`` (``--rbind`` when ``recursive``)."""
    return _call(source, target, None, MS_BIND | (MS_REC if recursive else 0), None)


def tmpfs(target: str, options: str, readonly: bool = False) -> bool:
    """``mount -t tmpfs -o [ro,]OPTIONS tmpfs TARGET``; ``options`` such as "size=1m,mode=0755"."""
    return _call("tmpfs", target, "tmpfs", MS_RDONLY if readonly else 0, options)


def remount_readonly(path: str) -> bool:
    """``mount -o remount,bind,ro PATH``: the bind mount at ``path`` becomes read-only."""
    try:
        current = os.statvfs(path).f_flag
    except OSError:
        return False
    kept = 0
    for name in _KEPT:
        bit = getattr(os, name, 0)
        kept |= current & bit
    return _call(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept, None)


def make_private(target: str) -> bool:
    """``mount --make-rprivate TARGET``: no mount under it propagates out, or in."""
    return _call("none", target, None, MS_REC | MS_PRIVATE, None)


def proc(target: str = "/proc") -> bool:
    """``mount -t proc -o nosuid,nodev,noexec proc TARGET``: the processes of this PID namespace."""
    return _call("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


def unmount(path: str, lazy: bool = False) -> bool:
    """``umount PATH`` (``umount -l`` when ``lazy``: detached now, freed when unused)."""
    try:
        return bool(_libc().umount2(os.fsencode(path), MNT_DETACH if lazy else 0) == 0)
    except (OSError, AttributeError):
        return False
