"""Writing safely: atomic replace, append with rollback, the lock, and crash recovery.

The order of SPEC section 8: drafts, then the journal, then the ledger. A marker file written
before the journal is touched lets the next run undo a journal append whose ledger write never
happened (a crash, a kill), so that the day is redone exactly once.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile

from .model import EXIT_CANTCREAT, EXIT_IO, EXIT_MISSING, EXIT_TEMPFAIL, Failure, Problem, Source

LOCK_NAME = ".cadence.lock"
MARKER_NAME = ".cadence-pending"
_CANNOT_WRITE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOENT,
                 errno.ENOTDIR, errno.EISDIR}


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


def digest(data: bytes) -> str:
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


def atomic_write(path: str, data: bytes) -> None:
    """Replace `path` by `data`: a temporary file in the same folder, fsync, rename.

    A symlink is written through: the file it points to is replaced, keeping its mode.
    """
    target = os.path.realpath(path)
    folder = os.path.dirname(target) or "."
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=".cadence-", suffix=".tmp", dir=folder)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        _fsync_dir(folder)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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


def recover(root: str) -> None:
    """Undo the journal append of a run that died before it replaced the ledger."""
    marker = os.path.join(root, MARKER_NAME)
    try:
        with open(marker, "rb") as handle:
            state = json.loads(handle.read().decode("utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        state = None
    if state:
        try:
            with open(state["ledger"], "rb") as handle:
                ledger_now = digest(handle.read())
        except OSError:
            ledger_now = None
        if ledger_now == state["ledger_before"]:
            truncate(state["journal"], state["journal_size"], state["journal_existed"])
    os.unlink(marker)
    _fsync_dir(root)


def commit(root: str, drafts, journal_path: str, journal_data: bytes, journal_header: bytes,
           ledger_path: str, ledger_before: bytes, ledger_after) -> None:
    """Write a run's output in the SPEC's order; on failure leave journal and ledger as they were.

    `drafts` is a list of (path, bytes); `ledger_after` is None when no cell changed.
    """
    for path, data in drafts:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            atomic_write(path, data)
        except OSError as err:
            raise write_failure(path, err) from None
    if not journal_data and ledger_after is None:
        return
    marker = os.path.join(root, MARKER_NAME)
    existed = os.path.exists(journal_path)
    size = os.path.getsize(journal_path) if existed else 0
    state = {"journal": os.path.abspath(journal_path), "journal_size": size,
             "journal_existed": existed, "ledger": os.path.abspath(ledger_path),
             "ledger_before": digest(ledger_before)}
    try:
        atomic_write(marker, json.dumps(state, sort_keys=True).encode("utf-8"))
    except OSError as err:
        raise write_failure(marker, err) from None
    try:
        if journal_data:
            data = journal_data
            if not existed or size == 0:
                data = journal_header + journal_data
            elif not _ends_with_newline(journal_path):
                data = b"\n" + journal_data
            try:
                append_bytes(journal_path, data)
            except OSError as err:
                raise write_failure(journal_path, err) from None
        if ledger_after is not None:
            if read_bytes(ledger_path, "ledger") != ledger_before:
                raise Failure(Problem(
                    Source(ledger_path), "the ledger changed on disk during this run",
                    "nothing was written; run cadence again to work from the new file",
                    EXIT_TEMPFAIL))
            try:
                atomic_write(ledger_path, ledger_after)
            except OSError as err:
                raise write_failure(ledger_path, err) from None
    except BaseException:
        try:
            if journal_data:
                truncate(journal_path, size, existed)
            os.unlink(marker)
        except OSError:
            pass  # the marker stays: the next run finishes the rollback
        raise
    try:
        os.unlink(marker)
    except OSError:
        pass
    _fsync_dir(root)


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
