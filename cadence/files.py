"""Writing safely: atomic replace, append with rollback, the lock, and crash recovery.

The order of SPEC section 8: drafts, then the journal, then the ledger. A marker file written
before the journal is touched lets the next run undo a journal append whose ledger write never
happened (a crash, a kill), so that the day is redone exactly once.
"""
from __future__ import annotations

import errno
import os

from .model import EXIT_CANTCREAT, EXIT_IO, EXIT_MISSING, EXIT_TEMPFAIL, Failure, Problem, Source

LOCK_NAME = ".cadence.lock"
MARKER_NAME = ".cadence-pending"
TMP_MARK, TMP_SUFFIX = ".cadence-", ".tmp"  # atomic_write's temporary file: .<name>.cadence-*.tmp
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


def atomic_write(path: str, data: bytes, durable: bool = True) -> None:
    """Replace `path` by `data`: a temporary file in the same folder, fsync, rename.

    A symlink is written through: the file it points to is replaced, keeping its mode.
    `durable=False` leaves the fsyncs to the caller (a day's drafts are synced at once).
    """
    target = os.path.realpath(path)
    folder = os.path.dirname(target) or "."
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(target), suffix=TMP_SUFFIX, dir=folder)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if durable:
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
        if durable:
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


def _marker_state(root: str):
    """The pending run's marker, {} when there is none, None when it cannot be read."""
    try:
        with open(os.path.join(root, MARKER_NAME), "rb") as handle:
            import json

            state = json.loads(handle.read().decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _undo_to(state: dict, ledger_now) -> "int | None":
    """The size to cut the journal back to when the marked run never reached its commit point.

    The commit point is the ledger's rename; for a run that writes only the journal, it is the
    journal append, once every byte of it is in the file. None: the run got through, keep it.
    """
    try:
        if state.get("ledger_after", True) is not None:
            return state["journal_size"] if ledger_now == state["ledger_before"] else None
        now = os.path.getsize(state["journal"]) if os.path.exists(state["journal"]) else 0
        return None if now >= state["journal_after"] else state["journal_size"]
    except (KeyError, TypeError, OSError):
        return None


def _ledger_digest(path: str):
    try:
        with open(path, "rb") as handle:
            return digest(handle.read())
    except OSError:
        return None


def recover(root: str) -> None:
    """Undo the journal append of a run that died before it replaced the ledger."""
    state = _marker_state(root)
    if state == {}:
        return
    if state:
        size = _undo_to(state, _ledger_digest(state.get("ledger", "")))
        if size is not None and "journal" in state:
            truncate(state["journal"], size, state.get("journal_existed", True))
    os.unlink(os.path.join(root, MARKER_NAME))
    _fsync_dir(root)


def journal_limit(root: str, journal_path: str, ledger_bytes: bytes):
    """How much of the journal a reader may trust while a dead run's append is not undone.

    Commands that only read take no lock and do not recover; they read the journal up to this
    size (None: all of it), so that they see the book as the next run will after its rollback.
    """
    state = _marker_state(root)
    if not state or state.get("journal") != os.path.abspath(journal_path):
        return None
    return _undo_to(state, digest(ledger_bytes))


def _tmp_prefix(target: str) -> str:
    return "." + os.path.basename(target) + TMP_MARK


def _clear_stale(targets) -> None:
    """The temporary files a killed run left for the files we are about to write.

    Named after their target, so that only ours go: another book's in the same folder stays.
    """
    folders, real = {}, {}
    for target in targets:
        if os.path.islink(target):
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
           ledger_path: str, ledger_before: bytes, ledger_after) -> None:
    """Write a run's output in the SPEC's order; on failure leave journal and ledger as they were.

    `drafts` is a list of (path, bytes); `ledger_after` is None when no cell changed.
    """
    if (journal_data or ledger_after is not None) \
            and read_bytes(ledger_path, "ledger") != ledger_before:
        raise _changed_under_us(ledger_path, "nothing was written")
    _clear_stale([ledger_path, os.path.join(root, MARKER_NAME)] + [path for path, _ in drafts]
                 + sorted({os.path.dirname(path) for path, _ in drafts}))
    _write_drafts(drafts)
    if drafts:
        # thousands of drafts: one sync for all of them, before the journal says they exist
        os.sync()
    if not journal_data and ledger_after is None:
        return
    marker = os.path.join(root, MARKER_NAME)
    existed = os.path.exists(journal_path)
    size = os.path.getsize(journal_path) if existed else 0
    data = journal_data
    if journal_data:
        if not existed or size == 0:
            data = journal_header + journal_data
        elif not _ends_with_newline(journal_path):
            data = b"\n" + journal_data
    state = {"journal": os.path.abspath(journal_path), "journal_size": size,
             "journal_existed": existed, "journal_after": size + len(data),
             "ledger": os.path.abspath(ledger_path), "ledger_before": digest(ledger_before),
             "ledger_after": None if ledger_after is None else digest(ledger_after)}
    try:
        import json

        atomic_write(marker, json.dumps(state, sort_keys=True).encode("utf-8"))
    except OSError as err:
        raise write_failure(marker, err) from None
    try:
        if data:
            try:
                append_bytes(journal_path, data)
            except OSError as err:
                raise write_failure(journal_path, err) from None
        if ledger_after is not None:
            if read_bytes(ledger_path, "ledger") != ledger_before:
                raise _changed_under_us(ledger_path, "the journal and the ledger are as they were")
            try:
                atomic_write(ledger_path, ledger_after)
            except OSError as err:
                raise write_failure(ledger_path, err) from None
    except BaseException:
        try:
            if data:
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


def _write_drafts(drafts) -> None:
    """Every draft in place, the caller syncs them all at once.

    A day's folder that does not exist yet (the usual morning) is written whole under a hidden
    name beside it and renamed into place once: no one sees it half written, and its thousands
    of files cost no rename each. Into a folder that exists, each draft goes to a temporary
    file beside it, renamed over its name.
    """
    by_folder = {}
    for path, data in drafts:
        by_folder.setdefault(os.path.dirname(path) or ".", []).append((path, data))
    pid = os.getpid()
    for folder, files in by_folder.items():
        if os.path.lexists(folder):
            for path, data in files:
                _replace_draft(path, data, pid)
        else:
            _write_fresh(folder, files, pid)


def _write_fresh(folder: str, files, pid: int) -> None:
    hidden = os.path.join(os.path.dirname(folder), f"{_tmp_prefix(folder)}{pid}{TMP_SUFFIX}")
    path = folder  # what an error names: the folder, then each draft, then the folder again
    try:
        os.makedirs(hidden)
        for path, data in files:
            fd = os.open(os.path.join(hidden, os.path.basename(path)),
                         os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)  # umask applies
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
        path = folder
        os.replace(hidden, folder)
    except OSError as err:
        _remove_tree(hidden)
        raise write_failure(path, err) from None


def _replace_draft(path: str, data: bytes, pid: int) -> None:
    tmp = os.path.join(os.path.dirname(path) or ".", f"{_tmp_prefix(path)}{pid}{TMP_SUFFIX}")
    try:
        if os.path.islink(path):
            atomic_write(path, data, durable=False)  # through the link, as for any file
            return
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)  # umask applies
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        try:
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)  # made again: keeps its mode
        except FileNotFoundError:
            pass
        os.replace(tmp, path)
    except OSError as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
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
