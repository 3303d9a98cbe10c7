"""Writing safely: atomic replace, append with rollback, the lock, and crash recovery.

The order of SPEC section 8: drafts, then the journal, then the ledger. A marker file written
before the journal is touched lets the next run undo a journal append whose ledger write never
happened (a crash, a kill), so that the day is redone exactly once.

A book is often a git repository that several people push to: a file in it is not an
instruction. The marker names no path (recovery acts on the config's journal and ledger only)
and cuts the journal only back over bytes it can prove are the dead run's own; drafts never go
through a symbolic link that the config does not name; the ledger is swapped in only in place of
the file that was read, and a file another program put there meanwhile is put back.

Longer than most modules: it is the whole write path (the commit's order, the marker that undoes
it, the ledger's swap, the drafts), and each part's guarantee rests on the others' order.
"""
from __future__ import annotations

import errno
import functools
import os
import stat
from typing import NamedTuple, Optional

from .model import (
    EXIT_CANTCREAT, EXIT_CONFIG, EXIT_DATA, EXIT_IO, EXIT_MISSING, EXIT_TEMPFAIL, Failure, Problem, Source,
)

LOCK_NAME = ".cadence.lock"
MARKER_NAME = ".cadence-pending"
MARKER_VERSION = 2  # a marker's "cadence" field; a file without it is not a marker cadence wrote
MARKER_LIMIT = 1 << 30  # bytes: a marker holds one run's journal rows, never this many
DRAFTS = "drafts"  # config.DEFAULT_PATHS["drafts"]: a link there is followed only if named
TMP_MARK, TMP_SUFFIX = ".cadence-", ".tmp"  # atomic_write's temporary file: .<name>.cadence-*.tmp
SWAPS = 100  # swaps back at most while the ledger keeps being replaced (see _put_back)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW  # not through a link, not over a file
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


def _fsync_dir(folder: str) -> None:
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


def _unlink_quietly(path: str) -> None:
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

    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(target), suffix=TMP_SUFFIX, dir=folder)
    ours = True  # `tmp` names the new file: removed on failure
    try:
        _write_all(fd, data)
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
            _fsync_dir(folder)
        if expect is not None:
            _still_ours(path, fd)
    except BaseException:
        if ours:
            _unlink_quietly(tmp)
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
        _unlink_quietly(tmp)
        raise
    try:
        try:
            if _read_fd(old_fd) != expect:
                raise _changed_under_us(path, AS_THEY_WERE)
            old = os.fstat(old_fd)  # held open: its inode number cannot pass to another file
            swapped = _exchange(tmp, target)
        except FileNotFoundError:  # the ledger is gone: someone moved it away meanwhile
            _unlink_quietly(tmp)
            raise _changed_under_us(path, AS_THEY_WERE) from None
        except BaseException:
            _unlink_quietly(tmp)
            raise
        if not swapped:
            try:
                try:
                    moved = not _same(os.stat(path), old)
                except FileNotFoundError:
                    moved = True
                if moved:
                    raise _changed_under_us(path, AS_THEY_WERE)
                os.replace(tmp, target)
            except BaseException:
                _unlink_quietly(tmp)
                raise
            return
        # `tmp` names what was the ledger a moment ago: the file checked, or one saved since
        try:
            displaced_ok = _same(os.lstat(tmp), old) and _read_fd(old_fd) == expect
        except BaseException:
            _put_back(tmp, target, new_fd)
            raise
        if displaced_ok:
            _unlink_quietly(tmp)  # the ledger as read: its bytes are `expect`, nothing is lost
            return
        _put_back(tmp, target, new_fd)
        raise _changed_under_us(path, AS_THEY_WERE)
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
                _unlink_quietly(tmp)
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

class Pending(NamedTuple):
    """What a marker claims about the run that wrote it; proven against the book before use."""

    journal_size: int  # the journal's length before the append
    journal_inode: int  # the journal's inode number: a file made here, not one pulled or copied
    journal_existed: bool  # False: cadence made the journal (empty) for this run
    appended: bytes  # exactly the bytes the run appends to the journal
    ledger_before: str  # SHA-256 of the ledger as the run read it
    ledger_after: Optional[str]  # SHA-256 of the ledger it writes; None: the journal only


def _unfit(root: str, reason: str) -> Failure:
    return Failure(Problem(
        Source(os.path.join(root, MARKER_NAME)),
        f"this marker of an unfinished run does not fit the book: {reason}",
        "cadence changed nothing; look at it and at the journal's last rows, then remove "
        f"{MARKER_NAME} by hand once the journal is checked", EXIT_DATA))


def _read_marker(root: str) -> Optional[Pending]:
    """The marker's claims, None when there is no marker; a Failure when it is not one cadence
    could have written (any field missing or of the wrong kind)."""
    import json

    path = os.path.join(root, MARKER_NAME)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError:
        info = None  # read_bytes says why it cannot be read
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise _unfit(root, "it is a symbolic link")
    if info is not None and (not stat.S_ISREG(info.st_mode) or info.st_size > MARKER_LIMIT):
        raise _unfit(root, "it is not a marker that cadence wrote")
    try:
        state = json.loads(read_bytes(path, "marker").decode("utf-8"))
    except ValueError:
        state = None
    if not isinstance(state, dict) or state.get("cadence") != MARKER_VERSION:
        raise _unfit(root, "it is not a marker that cadence wrote")

    def field(name, kind):
        value = state.get(name)
        if not _is(value, kind):
            raise _unfit(root, f"its {name!r} is missing or not valid")
        return value

    appended = field("appended", str)
    try:
        data = appended.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise _unfit(root, "its 'appended' is missing or not valid") from None
    if field("appended_size", "size") != len(data) \
            or field("appended_sha256", "digest") != digest(data):
        raise _unfit(root, "its appended rows do not match their length and digest")
    return Pending(field("journal_size", "size"), field("journal_inode", "size"),
                   field("journal_existed", bool), data, field("ledger_before", "digest"),
                   field("ledger_after", "digest or none"))


def _is(value, kind) -> bool:
    if kind == "size":
        return type(value) is int and 0 <= value < 1 << 63
    if kind == "digest or none":
        return value is None or _is(value, "digest")
    if kind == "digest":
        return isinstance(value, str) and len(value) == 64 \
            and all(ch in "0123456789abcdef" for ch in value)
    return type(value) is kind


def _verdict(root: str, pending: Pending, journal_path: str, ledger_now: Optional[str],
             reading: bool) -> Optional[int]:
    """The length to cut the config's journal back to, or None to keep it whole; a Failure when
    the marker does not fit the journal and the ledger.

    Only a tail that is, byte for byte, what the marked run appended (or the first part of it:
    a torn append) is ever cut. The run's commit point is the ledger's rename (its "after"
    digest); for a run that writes only the journal, the last byte of its append. `reading`:
    a reader (no lock) may meet a live run whose ledger is being saved by someone else; it
    reads the journal as that run will leave it, without its rows.
    """
    try:
        info = os.stat(journal_path)
    except FileNotFoundError:
        raise _unfit(root, "the journal it was written for is gone") from None
    except OSError as err:
        raise _cannot_read(journal_path, "journal", err) from None
    if not stat.S_ISREG(info.st_mode) or info.st_ino != pending.journal_inode:
        raise _unfit(root, "the journal is not the file that run appended to")
    start, length = pending.journal_size, info.st_size - pending.journal_size
    if not 0 <= length <= len(pending.appended):
        raise _unfit(root, "the journal's length is not what that run left")
    if _read_range(journal_path, start, length) != pending.appended[:length]:
        raise _unfit(root, "the journal's last bytes are not the rows that run appended")
    whole = length == len(pending.appended)
    if pending.ledger_after is None:
        return None if whole else start
    if ledger_now == pending.ledger_after:
        if not whole:
            raise _unfit(root, "the ledger is as that run wrote it, but its rows are not all in "
                               "the journal")
        return None
    if ledger_now == pending.ledger_before or reading:
        return start
    raise _unfit(root, "the ledger is neither as it was before that run nor as that run wrote it")


def _read_range(path: str, start: int, length: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            return handle.read(length)
    except OSError as err:
        raise _cannot_read(path, "journal", err) from None


def _cannot_read(path: str, what: str, err: OSError) -> Failure:
    return Failure(Problem(Source(path), f"cannot read {what}: {err.strerror}", code=EXIT_IO))


def recover(root: str, journal_path: str, ledger_path: str) -> None:
    """Undo the journal append of a run that died before it replaced the ledger.

    The journal and the ledger are the config's, never paths from the marker.
    """
    pending = _read_marker(root)
    if pending is None:
        return
    ledger_now = None
    if pending.ledger_after is not None:
        try:
            ledger_now = digest(read_bytes(ledger_path, "ledger"))
        except Failure as err:
            raise _unfit(root, f"the ledger cannot be read ({err.problems[0].message})") from None
    size = _verdict(root, pending, journal_path, ledger_now, reading=False)
    if size is not None:
        try:
            truncate(journal_path, size, pending.journal_existed or size > 0)
        except OSError as err:
            raise write_failure(journal_path, err) from None
    marker = os.path.join(root, MARKER_NAME)
    try:
        os.unlink(marker)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise write_failure(marker, err) from None
    _fsync_dir(root)


def journal_limit(root: str, journal_path: str, ledger_bytes: bytes):
    """How much of the journal a reader may trust while a dead run's append is not undone.

    Commands that only read take no lock and do not recover; they read the journal up to this
    size (None: all of it), so that they see the book as the next run will after its rollback.
    A marker that does not fit the book stops them as it stops a run.
    """
    pending = _read_marker(root)
    if pending is None:
        return None
    return _verdict(root, pending, journal_path, digest(ledger_bytes), reading=True)


def _tmp_prefix(target: str) -> str:
    return "." + os.path.basename(target) + TMP_MARK


def _clear_stale(targets, follow: bool = True) -> None:
    """The temporary files a killed run left for the files we are about to write.

    Named after their target, so that only ours go: another book's in the same folder stays.
    With `follow`, a target that is a link has its temporary files beside the file it points to.
    """
    folders, real = {}, {}
    for target in targets:
        if follow and os.path.islink(target):
            target = os.path.realpath(target)  # written through: its temporary file is there
        folder = os.path.dirname(target) or "."
        if folder not in real:
            real[folder] = os.path.realpath(folder)
        folders.setdefault(real[folder], set()).add(_tmp_prefix(target))
    for folder, prefixes in sorted(folders.items()):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.endswith(TMP_SUFFIX) and any(name.startswith(p) for p in prefixes):
                path = os.path.join(folder, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    _remove_tree(path)  # a day's folder that a killed run left unfinished
                    continue
                try:
                    os.unlink(path)
                except OSError:
                    pass


def _changed_under_us(ledger_path: str, written: str) -> Failure:
    return Failure(Problem(
        Source(ledger_path), "the ledger changed on disk during this run",
        f"{written}; run cadence again to work from the new file", EXIT_TEMPFAIL))


def commit(root: str, drafts, journal_path: str, journal_data: bytes, journal_header: bytes,
           ledger_path: str, ledger_before: bytes, ledger_after, moves=None) -> None:
    """Write a run's output in the SPEC's order; on failure leave journal and ledger as they were.

    `drafts` is a list of (path, bytes); `ledger_after` is None when no cell changed.
    `moves`, given by a take-back (`undo`, `skip`: maybe none), are drafts taken back with the
    drafts' writing: (path, new path), or (path, None) to remove it (`_stage_moves`); a
    take-back's drafts are put back as they were if the journal or the ledger fails.
    A dead run's marker is dealt with first (recover), before anything of this run is written.
    """
    writes = bool(journal_data) or ledger_after is not None
    if writes and read_bytes(ledger_path, "ledger") != ledger_before:
        raise _changed_under_us(ledger_path, "nothing was written")
    recover(root, journal_path, ledger_path)
    marker = os.path.join(root, MARKER_NAME)
    _clear_stale([ledger_path, marker])
    # a take-back changes drafts the journal still counts: each is put back as it was if
    # the journal or the ledger cannot be written, so that an error writes nothing; once
    # the ledger is swapped in (`committed`), what the drafts show is what the journal says
    kept = _kept_drafts(drafts) if moves is not None else None
    staged, committed = [], []
    try:
        _write_drafts(root, drafts)
        _stage_moves(root, moves or (), staged)
        if drafts or moves:
            # thousands of drafts: one sync for all of them, before the journal says they exist
            os.sync()
        if writes:
            _commit_rows(root, marker, journal_path, journal_data, journal_header, ledger_path,
                         ledger_before, ledger_after, committed)
    except BaseException:
        if kept is not None and not committed:
            _restore_drafts(kept, staged)
        raise
    _finish_moves(staged)


def _commit_rows(root: str, marker: str, journal_path: str, journal_data: bytes,
                 journal_header: bytes, ledger_path: str, ledger_before: bytes,
                 ledger_after, committed: list) -> None:
    """The journal's append and the ledger's swap, under the marker that undoes them;
    `committed` gets an item once both are done (what follows cannot undo them)."""
    import json

    existed = os.path.exists(journal_path)
    try:
        if existed:
            info = os.stat(journal_path)
        else:  # made now, empty, so that the marker can name the file by its inode
            fd = os.open(journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                info = os.fstat(fd)
            finally:
                os.close(fd)
    except OSError as err:
        raise write_failure(journal_path, err) from None
    size = info.st_size
    data = journal_data
    if journal_data:
        if size == 0:
            data = journal_header + journal_data
        elif not _ends_with_newline(journal_path):
            data = b"\n" + journal_data
    state = {"cadence": MARKER_VERSION, "journal_size": size, "journal_inode": info.st_ino,
             "journal_existed": existed, "appended": data.decode("utf-8", "surrogateescape"),
             "appended_size": len(data), "appended_sha256": digest(data),
             "ledger_before": digest(ledger_before),
             "ledger_after": None if ledger_after is None else digest(ledger_after)}
    try:
        atomic_write(marker, json.dumps(state, sort_keys=True).encode("utf-8"), follow=False)
    except OSError as err:
        if not existed:
            _unlink_quietly(journal_path)  # the empty journal made above
        raise write_failure(marker, err) from None
    try:
        if data:
            try:
                append_bytes(journal_path, data)
            except OSError as err:
                raise write_failure(journal_path, err) from None
        if ledger_after is not None:
            try:
                atomic_write(ledger_path, ledger_after, expect=ledger_before)
            except OSError as err:
                raise write_failure(ledger_path, err) from None
        committed.append(True)
    except BaseException:
        try:
            if data or not existed:
                truncate(journal_path, size, existed)
            os.unlink(marker)
        except OSError:
            pass  # the marker stays: the next run finishes the rollback
        raise
    try:
        os.unlink(marker)
    except OSError:
        pass  # the run got through; the next run reads the marker as done
    _fsync_dir(root)


# --- drafts --------------------------------------------------------------------------------------

def _write_drafts(root: str, drafts) -> None:
    """Every draft in place, the caller syncs them all at once.

    A day's folder that does not exist yet (the usual morning) is written whole under a hidden
    name beside it and renamed into place once: no one sees it half written, and its thousands
    of files cost no rename each. Into a folder that exists, each draft goes to a temporary
    file beside it, renamed over its name.

    Nothing is written through a symbolic link: not a day's folder, not a draft's name (a link
    there is replaced, what it points to is not touched), not the book's drafts/ folder unless
    cadence.yaml names another place for drafts, which is then the user's choice, links and all.
    """
    by_folder = {}
    for path, data in drafts:
        by_folder.setdefault(os.path.dirname(path) or ".", []).append((path, data))
    pid = os.getpid()
    for folder, files in by_folder.items():
        _make_drafts_home(root, os.path.dirname(folder) or ".")
        exists = _day_folder_exists(folder)
        _clear_stale([path for path, _ in files] + [folder], follow=False)
        if exists:
            for path, data in files:
                _replace_draft(path, data, pid)
        else:
            _write_fresh(folder, files, pid)


def _kept_drafts(drafts) -> dict:
    """{path: its bytes, the text of a symbolic link standing there (str), or None when
    there is neither} of the files `drafts` replace (a day's overview, a few files): what
    `_restore_drafts` puts back. A link is kept as a link, never read through."""
    kept = {}
    for path, _ in drafts:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            try:
                kept[path] = os.readlink(path)
            except OSError:
                kept[path] = None
            continue
        with os.fdopen(fd, "rb") as handle:
            kept[path] = handle.read() if stat.S_ISREG(os.fstat(fd).st_mode) else None
    return kept


def _restore_drafts(kept: dict, staged: list) -> None:
    """The drafts as they were before a take-back whose journal or ledger failed: best
    effort, since the disk is failing already."""
    for path, now, _ in reversed(staged):
        try:
            os.replace(now, path)
        except OSError:
            pass
    pid = os.getpid()
    for path, data in kept.items():
        try:
            if data is None:
                _unlink_quietly(path)
            elif isinstance(data, str):
                _relink(path, data, pid)
            else:
                _replace_draft(path, data, pid)
        except Failure:
            pass


def _relink(path: str, target: str, pid: int) -> None:
    """The symbolic link `path` -> `target` again, in place of what stands there."""
    tmp = os.path.join(os.path.dirname(path) or ".", f"{_tmp_prefix(path)}{pid}{TMP_SUFFIX}")
    try:
        os.symlink(target, tmp)
        os.replace(tmp, path)
    except OSError:
        _unlink_quietly(tmp)


def _stage_moves(root: str, moves, staged: list) -> None:
    """Rename drafts (a skipped touch's draft gets a suffix) or set them aside to be removed
    (a touch taken back), each added to `staged` as it is done (path, where it is now,
    removed): for `_finish_moves` once the journal says so, or `_restore_drafts`, even when
    a later one fails. A draft or a day's folder that is not there is left as
    it is; nothing is done through a symbolic link: a link in a draft's place is renamed or
    removed itself, and a day's folder (or the book's drafts folder) that is a link is refused
    as when drafts are written."""
    pid = os.getpid()
    for path, new in moves:
        folder = os.path.dirname(path) or "."
        home = os.path.dirname(folder) or "."
        if not os.path.lexists(home) or not os.path.lexists(folder):
            continue
        if os.path.normpath(home) == os.path.normpath(os.path.join(root, DRAFTS)) \
                and os.path.islink(home):
            _make_drafts_home(root, home)  # says why: the drafts folder is a link
        _day_folder_exists(folder)  # refuses a link
        now = new if new is not None else \
            os.path.join(folder, f"{_tmp_prefix(path)}{pid}.taken-back{TMP_SUFFIX}")
        try:
            os.replace(path, now)
        except FileNotFoundError:
            continue
        except OSError as err:
            raise write_failure(path, err) from None
        staged.append((path, now, new is None))


def _finish_moves(staged: list) -> None:
    """The drafts set aside removed, then a day's folder left empty."""
    emptied = []
    for _, now, removed in staged:
        if removed:
            _unlink_quietly(now)
            emptied.append(os.path.dirname(now) or ".")
    for folder in dict.fromkeys(emptied):
        try:
            os.rmdir(folder)  # only when empty: a file the user put there keeps it
        except OSError:
            pass


def _make_drafts_home(root: str, home: str) -> None:
    """The folder that holds the days' folders: there, and not a link unless the config names it."""
    if os.path.normpath(home) != os.path.normpath(os.path.join(root, DRAFTS)):
        try:
            os.makedirs(home, exist_ok=True)
        except FileExistsError:
            pass  # not a folder: writing the day's folder in it says so
        except OSError as err:
            raise write_failure(home, err) from None
        return
    try:
        info = os.lstat(home)
    except FileNotFoundError:
        try:
            os.mkdir(home)
        except FileExistsError:
            return _make_drafts_home(root, home)
        except OSError as err:
            raise write_failure(home, err) from None
        return
    except OSError as err:
        raise write_failure(home, err) from None
    if stat.S_ISLNK(info.st_mode):
        raise Failure(Problem(
            Source(home), "the drafts folder is a symbolic link",
            "cadence writes drafts into the book's own drafts folder, or where cadence.yaml "
            "says: remove the link, or set `drafts:` to the place it points to", EXIT_CANTCREAT))


def _day_folder_exists(folder: str) -> bool:
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return False
    except OSError as err:
        raise write_failure(folder, err) from None
    if stat.S_ISLNK(info.st_mode):
        raise Failure(Problem(
            Source(folder), "the day's drafts folder is a symbolic link",
            "cadence writes a day's drafts only into a folder it made; remove the link",
            EXIT_CANTCREAT))
    return True


def _write_fresh(folder: str, files, pid: int) -> None:
    hidden = os.path.join(os.path.dirname(folder), f"{_tmp_prefix(folder)}{pid}{TMP_SUFFIX}")
    path = folder  # what an error names: the folder, then each draft, then the folder again
    made = False
    try:
        os.mkdir(hidden)
        made = True
        for path, data in files:
            fd = os.open(os.path.join(hidden, os.path.basename(path)), _NEW_FILE, 0o666)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
        path = folder
        os.replace(hidden, folder)
    except OSError as err:
        if made:
            _remove_tree(hidden)
        raise write_failure(path, err) from None


def _replace_draft(path: str, data: bytes, pid: int) -> None:
    tmp = os.path.join(os.path.dirname(path) or ".", f"{_tmp_prefix(path)}{pid}{TMP_SUFFIX}")
    made = False
    try:
        fd = os.open(tmp, _NEW_FILE, 0o666)  # umask applies
        made = True
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        try:
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                os.chmod(tmp, info.st_mode & 0o7777)  # made again: keeps its mode
        except FileNotFoundError:
            pass
        os.replace(tmp, path)  # over a link too: the link goes, what it points to stays as it was
    except OSError as err:
        if made:
            _unlink_quietly(tmp)
        raise write_failure(path, err) from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _remove_tree(path: str) -> None:
    """A folder we made and filled, gone again; what cannot go stays for the next run."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
