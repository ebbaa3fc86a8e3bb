"""Replacing a whole directory atomically, and the lock, clean-up and reader pins around it.

A finished staging folder replaces ``target`` in one step:

* Linux (3.15+; ext4, xfs, btrfs, tmpfs, ...): ``renameat2(staging, target, RENAME_EXCHANGE)``
  swaps the two names at once, so ``target`` always names a complete directory. The old one is
  then under the staging name and is deleted, unless a reader has it pinned (below).
* Fallback (no ``renameat2``: macOS, Windows, old kernels; or a file system that answers EINVAL,
  e.g. some network mounts; or ``KGNLU_NO_RENAME_EXCHANGE=1``): two renames, ``target`` →
  ``.NAME.old.XXXX/old``, then staging → ``target``. A crash between the two leaves no ``target``;
  the next build, save or load of ``target`` puts the old one back (:func:`clean_stale`), so a
  crash never loses the old directory, it only costs the new one.

Writers of one target serialise on ``flock`` of a sibling ``.NAME.lock``, held from before the
staging folder is made until after the swap; a second writer logs that it waits, and after
``KGNLU_LOCK_TIMEOUT`` seconds (default 600) raises TargetBusyError (E024). Holding that lock, a
writer first removes staging and retired folders a killed process left beside ``target``.

Readers pin the directory they open (:class:`DirectoryPin`: a directory fd with a shared
``flock``) and read through the fd, so a swap under them never mixes two versions, and a writer
does not delete a retired directory while a reader holds it (the next writer does, once free).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import logging
import os
import platform
import re
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

AT_FDCWD = -100
RENAME_EXCHANGE = 2
# renameat2's syscall number where glibc predates its wrapper (added in glibc 2.28)
_SYSCALL_RENAMEAT2 = {"x86_64": 316, "aarch64": 276, "arm64": 276, "i686": 353, "ppc64le": 357,
                      "s390x": 347, "riscv64": 276}
# errors that mean "this kernel or file system cannot exchange": take the two-rename fallback
_NO_EXCHANGE = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}
DEFAULT_LOCK_TIMEOUT = 600.0


def _load_renameat2():
    """A callable (old, new) → (result, errno) for renameat2 with RENAME_EXCHANGE, or None."""
    if platform.system() != "Linux":
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    fn = getattr(libc, "renameat2", None)
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        fn.restype = ctypes.c_int

        def call(old: bytes, new: bytes) -> int:
            return fn(AT_FDCWD, old, AT_FDCWD, new, RENAME_EXCHANGE)
    else:
        number = _SYSCALL_RENAMEAT2.get(platform.machine())
        if number is None:
            return None
        syscall = libc.syscall
        syscall.restype = ctypes.c_long

        def call(old: bytes, new: bytes) -> int:
            return syscall(ctypes.c_long(number), ctypes.c_int(AT_FDCWD), ctypes.c_char_p(old),
                           ctypes.c_int(AT_FDCWD), ctypes.c_char_p(new), ctypes.c_uint(RENAME_EXCHANGE))

    def exchange(old: bytes, new: bytes) -> tuple[int, int]:
        result = call(old, new)
        return result, (ctypes.get_errno() if result != 0 else 0)
    return exchange


_renameat2 = _load_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` in one step; False (nothing done) where the platform or file
    system cannot, so the caller takes the fallback. Other failures raise OSError."""
    if _renameat2 is None or os.environ.get("KGNLU_NO_RENAME_EXCHANGE"):
        return False
    result, err = _renameat2(os.fsencode(a), os.fsencode(b))
    if result == 0:
        return True
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def fsync_dir(path: Path) -> None:
    """Make renames inside ``path`` durable (a no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def swap_into_place(staging: Path, target: Path) -> None:
    """Put the finished ``staging`` folder at ``target``; an existing ``target`` is exchanged with
    it in one step (or, in the fallback, moved aside first and put back if the second rename
    fails) and deleted once the new one is in place, unless a reader still has it pinned."""
    staging, target = Path(staging), Path(target)
    if not os.path.lexists(target):
        os.replace(staging, target)
    elif exchange(staging, target):
        _retire(staging)  # the old directory now sits under the staging name
    else:
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, retired / "old")
        try:
            os.replace(staging, target)
        except BaseException:
            os.replace(retired / "old", target)
            shutil.rmtree(retired, ignore_errors=True)
            raise
        if _retire(retired / "old"):  # the pin is on ``old`` itself; a pinned one waits for clean_stale
            shutil.rmtree(retired, ignore_errors=True)
    fsync_dir(target.parent)


def _retire(old: Path) -> bool:
    """Delete a replaced directory unless a reader pins it (then the next writer's clean-up does).
    Held exclusively while deleting, so a reader that pins it meanwhile sees it gone and retries."""
    if os.path.islink(old) or os.path.isfile(old):  # the target was a link or a file: never follow a link
        with contextlib.suppress(OSError):
            os.unlink(old)
        return True
    try:
        fd = os.open(old, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        shutil.rmtree(old, ignore_errors=True)
        return True
    finally:
        os.close(fd)


def new_staging(target: Path) -> Path:
    """An empty ``.NAME.tmp-XXXX`` folder beside ``target`` (the name :func:`clean_stale` knows)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    os.chmod(staging, 0o755)  # mkdtemp makes it owner-only; saved data is for whoever can read the parent
    return staging


def _leftovers(target: Path) -> tuple[list[Path], list[Path]]:
    """(staging folders, retired folders) beside ``target``: ``.NAME.tmp-*``, ``.NAME.old.*``, and
    ``.NAME.XXXXXXXX`` (mkdtemp's staging names before this module). Files never match."""
    name = re.escape(target.name)
    staging_re = re.compile(rf"\.{name}\.(tmp-[\w-]+|[a-z0-9_]{{8}})")
    retired_re = re.compile(rf"\.{name}\.old\.[\w-]+")
    staging, retired = [], []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(target.parent):
            if not entry.is_dir(follow_symlinks=False):
                continue
            if retired_re.fullmatch(entry.name):
                retired.append(Path(entry.path))
            elif staging_re.fullmatch(entry.name):
                staging.append(Path(entry.path))
    return staging, retired


def clean_stale(target: Path) -> list[str]:
    """Under the writer lock: put back a directory a crash left moved aside (fallback swap cut
    between its renames), then remove dead staging and retired folders. What it did, as lines."""
    target = Path(target)
    done = []
    staging, retired = _leftovers(target)
    if not os.path.lexists(target):
        # newest first: the retired copy of the last completed swap
        for folder in sorted(retired, key=lambda p: p.stat().st_mtime, reverse=True):
            if (folder / "old").is_dir():
                os.replace(folder / "old", target)
                fsync_dir(target.parent)
                done.append(f"restored {target} from {folder.name} (a swap was cut short)")
                log.warning(done[-1])
                break
    for folder in staging + retired:
        if (not (folder / "old").is_dir() or _retire(folder / "old")) and _retire(folder):
            done.append(f"removed {folder.name} (left by an interrupted write)")
    return done


def needs_recovery(target: Path) -> bool:
    """``target`` is missing but a retired copy of it waits beside it."""
    return not os.path.lexists(target) and any((p / "old").is_dir() for p in _leftovers(Path(target))[1])


def recover(target: Path, timeout: float | None = None) -> bool:
    """For readers: if a cut-short fallback swap left ``target`` missing, wait for any live writer
    and put the old directory back. True when ``target`` exists afterwards."""
    target = Path(target)
    if needs_recovery(target):
        try:
            with target_lock(target, timeout):
                clean_stale(target)
        except OSError as err:  # a read-only parent: report the graph as missing, as before
            log.warning("cannot restore %s: %s", target, err)
    return target.exists()


def lock_timeout() -> float:
    value = os.environ.get("KGNLU_LOCK_TIMEOUT")
    try:
        return float(value) if value else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


@contextlib.contextmanager
def target_lock(target: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the writer lock of ``target`` (flock on ``.NAME.lock`` beside it). Waits at most
    ``timeout`` seconds (KGNLU_LOCK_TIMEOUT, default 600), then raises TargetBusyError (E024).
    The lock file is removed on release (a killed holder's file is simply reused)."""
    from kgnlu.errors import TargetBusyError

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target.parent / f".{target.name}.lock"
    deadline = time.monotonic() + (lock_timeout() if timeout is None else timeout)
    waited = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise TargetBusyError(f"{target} is being written by another process ({_holder(path)}); "
                                      "wait for it to finish, or raise KGNLU_LOCK_TIMEOUT") from None
            if not waited:
                log.warning("waiting for another process writing %s (%s)", target, _holder(path))
                waited = True
            time.sleep(0.05)
            continue
        # the holder we waited for may have unlinked the file: locked only if it is still the path's file
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # still holding it: a waiter that opened this file sees it unlinked and retries
        os.close(fd)


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(encoding="ascii", errors="replace").strip() or "pid unknown"
    return "pid unknown"


@contextlib.contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``target`` to fill; on success it replaces ``target``
    (:func:`swap_into_place`), on failure it is removed and ``target`` is left as it was. Writers
    of one target take turns (:func:`target_lock`) and clear what killed writers left."""
    target = Path(target)
    with target_lock(target):
        clean_stale(target)
        staging = new_staging(target)
        try:
            yield staging
            swap_into_place(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


class DirectoryPin:
    """A reader's hold on one directory: an fd opened on it with a shared ``flock`` (a writer
    does not delete it while held). ``root`` reads through the fd on Linux (``/proc/self/fd/N``), so
    renames of ``path`` do not change what is read; elsewhere it is ``path``, and :meth:`current`
    tells a reader to retry. Closed by :meth:`close` or when garbage-collected."""

    def __init__(self, path: Path):
        self.path = Path(path)
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        self._close = weakref.finalize(self, os.close, fd)
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a writer is deleting this very folder
        self.fd = fd
        proc = Path(f"/proc/self/fd/{fd}")
        self.root = proc if proc.is_dir() else self.path

    def shared_root(self) -> Path:
        """``root`` as another process sees it (``/proc/PID/fd/N``), e.g. a query worker's."""
        proc = Path(f"/proc/{os.getpid()}/fd/{self.fd}")
        return proc if self.root != self.path and proc.is_dir() else self.path

    def current(self) -> bool:
        """``path`` still names the pinned directory, and it has not been emptied."""
        try:
            pinned = os.fstat(self.fd)
            return os.path.samestat(pinned, os.stat(self.path)) and pinned.st_nlink > 0
        except OSError:
            return False

    def close(self) -> None:
        self._close()

    def __reduce__(self):
        # an fd means nothing in another process: a copy sent to a worker (DataLoader, spawn) holds no pin
        return _no_pin, ()


def _no_pin() -> None:
    return None
