"""Writing a file safely: the atomic replace (and the ledger's swap), the append, the cut back,
and the book's lock.

A book is often a git repository that several people push to: a file in it is not an
instruction. The ledger is swapped in only in place of the file that was read, and a file
another program put there meanwhile is put back. What a run writes, in which order, is
cadence.commit's; the drafts' folders are cadence.draftfiles'.
"""
from __future__ import annotations

import errno
import functools
import os
import stat
from typing import Optional

from .model import (
    EXIT_CANTCREAT, EXIT_CONFIG, EXIT_IO, EXIT_MISSING, EXIT_TEMPFAIL, Failure, Problem, Source,
)

LOCK_NAME = ".cadence.lock"
TMP_MARK, TMP_SUFFIX = ".cadence-", ".tmp"  # atomic_write's temporary file: .<name>.cadence-*.tmp
SWAPS = 100  # swaps back at most while the ledger keeps being replaced (see _put_back)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW  # not through a link, not over a file
_CANNOT_WRITE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOENT,
                 errno.ENOTDIR, errno.EISDIR}
AS_THEY_WERE = "the journal and the ledger are as they were"


def write_failure(path: str, err: OSError) -> Failure:
    code = EXIT_CANTCREAT if err.errno in _CANNOT_WRITE else EXIT_IO
    reason = err.strerror or str(err)
    return Failure(Problem(Source(path), f"cannot write: {reason}",
                           "check the folder's permissions and free space", code))


def read_bytes(path: str, what: str = "file") -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise Failure(Problem(Source(path), f"{what} not found", code=EXIT_MISSING)) from None
    except IsADirectoryError:
        raise Failure(Problem(Source(path), f"{what} is a folder", code=EXIT_MISSING)) from None
    except OSError as err:
        raise Failure(Problem(Source(path), f"cannot read {what}: {err.strerror}", code=EXIT_IO)) from None


def regular_file(path: str, what: str,
                 hint: str = "point cadence.yaml at the file itself") -> None:
    """Refuse a device, a pipe or a socket where a book's file belongs (reading /dev/zero
    would never end, and a pipe would wait for ever)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing or unreadable: the read that follows says so
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise Failure(Problem(Source(path), f"{what} is not a regular file (a device or a pipe)",
                              hint, EXIT_MISSING))


def owned_here(path: str, owner: int, hint: str) -> None:
    """Refuse a file that another user owns (root's is trusted): one planted in a shared
    folder above the book must not steer it (its mail section may name a program to run).
    `owner` is the uid of the file as opened (fstat), so that it cannot be swapped between
    the check and the read."""
    if owner not in (os.geteuid(), 0):
        raise Failure(Problem(Source(path), "belongs to another user: not read", hint,
                              EXIT_CONFIG))


def digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def atomic_write(path: str, data: bytes, durable: bool = True, follow: bool = True,
                 expect: Optional[bytes] = None) -> None:
    """Replace `path` by `data`: a temporary file in the same folder, fsync, rename.

    A symlink is written through: the file it points to is replaced, keeping its mode; with
    `follow=False` the link itself is replaced (a file of cadence's own, such as the marker).
    `durable=False` leaves the fsyncs to the caller (a day's drafts are synced at once).
    `expect` is what `path` must still hold when it is replaced (the ledger as it was read):
    see _swap_in; the file is then replaced only in place of the one that held it.
    """
    target = os.path.realpath(path) if follow else path
    folder = os.path.dirname(target) or "."
    try:
        info = os.stat(target) if follow else os.lstat(target)
        mode = info.st_mode & 0o7777 if stat.S_ISREG(info.st_mode) else None
    except FileNotFoundError:
        mode = None
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=tmp_prefix(target), suffix=TMP_SUFFIX, dir=folder)
    ours = True  # `tmp` names the new file: removed on failure
    try:
        write_all(fd, data)
        if durable:
            os.fsync(fd)
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        if expect is None:
            os.replace(tmp, target)
            ours = False
        else:
            ours = False  # from here on _swap_in minds the temporary name
            _swap_in(path, target, tmp, fd, expect)
        if durable:
            fsync_dir(folder)
        if expect is not None:
            _still_ours(path, fd)
    except BaseException:
        if ours:
            unlink_quietly(tmp)
        raise
    finally:
        os.close(fd)


# --- the ledger's swap ---------------------------------------------------------------------------
#
# Another program (Excel, a sync client) may save the ledger while cadence writes it: it writes
# a new file and renames it over the ledger. cadence read the ledger at the start; it checks it
# again once the new file is on disk, then swaps the two names in one step (Linux's
# renameat2(RENAME_EXCHANGE)), which leaves the file it displaced at the temporary name. That
# file is proven to be the one checked (same inode, held open, same bytes); if it is not,
# someone saved in between: it is swapped back, and the run exits 75 with its journal rows
# taken back. After the swap the ledger must still be cadence's file (by identity) once the
# folder is synced, or the run exits 75 too: the other program's file stays.
#
# What remains racy, and why:
# - A save that lands after that last identity check replaces cadence's update, and the run has
#   already said it wrote it (exit 0). Nothing a writer does can see an edit made after it
#   finished; the journal keeps the day's rows, and SPEC section 9 rebuilds from it.
# - A program that writes into the ledger in place (not by rename), through a handle it opened
#   before the swap, writes into the displaced file once the swap is done; that edit is lost.
# - Where the swap is missing (not Linux, or a file system without RENAME_EXCHANGE: NFS, some
#   FUSE), the check is by identity right before a plain rename: a save that lands between
#   that check and the rename (a few microseconds) is replaced without a trace.
# - If the ledger is replaced more than SWAPS times while cadence puts the other program's file
#   back, the newest it holds is renamed into place, over whatever came after it.
# - A kill between the swap and the swap back leaves the other program's file at the temporary
#   name, which the next run clears as its own leftover.


def _exchange(a: str, b: str) -> bool:
    """Swap the files named `a` and `b` in one step. False, having done nothing, where the
    system or the file system cannot; OSError for any other failure."""
    call = _renameat2()
    if call is None:
        return False
    import ctypes

    at_fdcwd, rename_exchange = -100, 2
    if call(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), b)


@functools.lru_cache(maxsize=None)
def _renameat2():
    """renameat2 of the C library, through ctypes; None where there is none."""
    import sys

    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library without it (glibc before 2.28)
        return None
    call.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    call.restype = ctypes.c_int
    return call


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _read_fd(fd: int) -> bytes:
    """All of an open file, from its first byte."""
    parts, offset = [], 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        offset += len(chunk)


def _swap_in(path: str, target: str, tmp: str, new_fd: int, expect: bytes) -> None:
    """Put the new file (named `tmp`, open as `new_fd`) in place of `target` if `path` (the
    ledger, `target` through its link) still holds `expect`; otherwise leave it as it is and
    raise the "changed under us" Failure. `tmp` is gone when this returns or raises (but for
    a failure to swap back, which leaves whatever it holds there)."""
    try:
        old_fd = os.open(path, os.O_RDONLY)
    except BaseException:
        unlink_quietly(tmp)
        raise
    try:
        try:
            if _read_fd(old_fd) != expect:
                raise changed_under_us(path, AS_THEY_WERE)
            old = os.fstat(old_fd)  # held open: its inode number cannot pass to another file
            swapped = _exchange(tmp, target)
        except FileNotFoundError:  # the ledger is gone: someone moved it away meanwhile
            unlink_quietly(tmp)
            raise changed_under_us(path, AS_THEY_WERE) from None
        except BaseException:
            unlink_quietly(tmp)
            raise
        if not swapped:
            try:
                try:
                    moved = not _same(os.stat(path), old)
                except FileNotFoundError:
                    moved = True
                if moved:
                    raise changed_under_us(path, AS_THEY_WERE)
                os.replace(tmp, target)
            except BaseException:
                unlink_quietly(tmp)
                raise
            return
        # `tmp` names what was the ledger a moment ago: the file checked, or one saved since
        try:
            displaced_ok = _same(os.lstat(tmp), old) and _read_fd(old_fd) == expect
        except BaseException:
            _put_back(tmp, target, new_fd)
            raise
        if displaced_ok:
            unlink_quietly(tmp)  # the ledger as read: its bytes are `expect`, nothing is lost
            return
        _put_back(tmp, target, new_fd)
        raise changed_under_us(path, AS_THEY_WERE)
    finally:
        os.close(old_fd)


def _put_back(tmp: str, target: str, new_fd: int) -> None:
    """Undo a swap: the file at `tmp` (not ours) goes back to `target` and ours leaves.

    If yet another file was renamed over `target` meanwhile, it is newer than the one we put
    back, so we swap again, until what comes out is ours or one we already put back (which the
    newer one replaced, as it would have without us). The files seen are held open so that no
    new file can take their inode numbers while we compare them.
    """
    ours = os.fstat(new_fd)
    held = []
    try:
        try:
            held.append(os.open(tmp, os.O_RDONLY | _NOFOLLOW))
        except OSError:
            pass  # put it back all the same; only a second save could then be mistaken for it
        for _ in range(SWAPS):
            if not _exchange(tmp, target):
                raise OSError(errno.ENOTSUP, os.strerror(errno.ENOTSUP), target)
            now = os.lstat(tmp)
            if _same(now, ours) or any(_same(now, os.fstat(fd)) for fd in held):
                unlink_quietly(tmp)
                return
            held.append(os.open(tmp, os.O_RDONLY | _NOFOLLOW))
        os.replace(tmp, target)  # the newest one we hold (see the notes above _exchange)
    finally:
        for fd in held:
            os.close(fd)


def _still_ours(path: str, new_fd: int) -> None:
    """After the swap: the ledger is still the file cadence wrote (by identity: an edit made in
    that file since came from a program that read cadence's update, and keeps it)."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        now = None
    except OSError:
        return  # cannot tell; the swap was proven, keep the run
    if now is None or not _same(now, os.fstat(new_fd)):
        raise Failure(Problem(
            Source(path), "another program replaced the ledger just after cadence wrote it",
            "cadence's changes are not in it, and the journal is as it was; run cadence again "
            "to work from the new file", EXIT_TEMPFAIL))


def append_bytes(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def truncate(path: str, size: int, existed: bool) -> None:
    if not existed:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    with open(path, "r+b") as handle:
        handle.truncate(size)
        handle.flush()
        os.fsync(handle.fileno())


class Lock:
    """The book's lock: a second run waits up to `timeout` seconds, then exits 75."""

    def __init__(self, root: str, timeout: float = 10.0):
        from filelock import FileLock

        self.path = os.path.join(root, LOCK_NAME)
        self._lock = FileLock(self.path, timeout=timeout)

    def __enter__(self):
        from filelock import Timeout

        if os.path.islink(self.path):  # planted: opening it for the lock would go where it points
            raise Failure(Problem(Source(self.path), "the lock file is a symbolic link",
                                  "cadence makes its lock as a plain file; remove the link",
                                  EXIT_CANTCREAT))
        try:
            self._lock.acquire()
        except Timeout:
            raise Failure(Problem(Source(self.path), "another cadence run holds the lock",
                                  "wait for it to finish, then try again", EXIT_TEMPFAIL)) from None
        except OSError as err:
            raise write_failure(self.path, err) from None
        return self

    def __exit__(self, *exc):
        self._lock.release()
        return False


# --- the marker of a run in progress -------------------------------------------------------------


def tmp_prefix(target: str) -> str:
    return "." + os.path.basename(target) + TMP_MARK


def changed_under_us(ledger_path: str, written: str) -> Failure:
    return Failure(Problem(
        Source(ledger_path), "the ledger changed on disk during this run",
        f"{written}; run cadence again to work from the new file", EXIT_TEMPFAIL))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
