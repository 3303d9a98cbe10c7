"""A run's commit: its drafts, then the journal, then the ledger (SPEC section 8), and the
marker that undoes a commit that died half way.

A marker file written before the journal is touched lets the next run undo a journal append
whose ledger write never happened (a crash, a kill), so that the day is redone exactly once.
The marker names no path (recovery acts on the config's journal and ledger only) and cuts the
journal only back over bytes it can prove are the dead run's own.
"""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from typing import NamedTuple, Optional

from . import files  # by the module: what a test patches there is what runs here
from .draftfiles import clear_stale, finish_moves, kept_drafts, restore_drafts, stage_moves, write_drafts
from .model import EXIT_DATA, EXIT_IO, Failure, Problem, Source

MARKER_NAME = ".cadence-pending"
MARKER_VERSION = 2  # a marker's "cadence" field; a file without it is not a marker cadence wrote
MARKER_LIMIT = 1 << 30  # bytes: a marker holds one run's journal rows, never this many


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
        state = json.loads(files.read_bytes(path, "marker").decode("utf-8"))
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
            or field("appended_sha256", "digest") != files.digest(data):
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
            ledger_now = files.digest(files.read_bytes(ledger_path, "ledger"))
        except Failure as err:
            raise _unfit(root, f"the ledger cannot be read ({err.problems[0].message})") from None
    size = _verdict(root, pending, journal_path, ledger_now, reading=False)
    if size is not None:
        try:
            files.truncate(journal_path, size, pending.journal_existed or size > 0)
        except OSError as err:
            raise files.write_failure(journal_path, err) from None
    marker = os.path.join(root, MARKER_NAME)
    try:
        os.unlink(marker)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise files.write_failure(marker, err) from None
    files.fsync_dir(root)


def journal_limit(root: str, journal_path: str, ledger_bytes: bytes):
    """How much of the journal a reader may trust while a dead run's append is not undone.

    Commands that only read take no lock and do not recover; they read the journal up to this
    size (None: all of it), so that they see the book as the next run will after its rollback.
    A marker that does not fit the book stops them as it stops a run.
    """
    pending = _read_marker(root)
    if pending is None:
        return None
    return _verdict(root, pending, journal_path, files.digest(ledger_bytes), reading=True)


# os.sync() writes every program's pending data, not only the book's: a run of 20 drafts took
# 4.8-5.5 s while another program wrote 3 GB, and 0.7-2.0 s with each draft synced by itself
# (and its folder), a fraction of a millisecond each on an idle disk. Over this many drafts,
# one sync of everything is the cheaper way (24,000 drafts on a Monday).
ONE_BY_ONE = 200


def commit(root: str, drafts, journal_path: str, journal_data: bytes, journal_header: bytes,
           ledger_path: str, ledger_before: bytes, ledger_after, moves=None) -> None:
    """Write a run's output in the SPEC's order; on failure leave journal and ledger as they were.

    `drafts` is a list of (path, bytes); `ledger_after` is None when no cell changed.
    `moves`, given by a take-back (`undo`, `skip`: maybe none), are drafts taken back with the
    drafts' writing: (path, new path), or (path, None) to remove it (`stage_moves`); a
    take-back's drafts are put back as they were if the journal or the ledger fails.
    A dead run's marker is dealt with first (recover), before anything of this run is written.
    """
    writes = bool(journal_data) or ledger_after is not None
    if writes and files.read_bytes(ledger_path, "ledger") != ledger_before:
        raise files.changed_under_us(ledger_path, "nothing was written")
    recover(root, journal_path, ledger_path)
    marker = os.path.join(root, MARKER_NAME)
    clear_stale([ledger_path, marker])
    # a take-back changes drafts the journal still counts: each is put back as it was if
    # the journal or the ledger cannot be written, so that an error writes nothing; once
    # the ledger is swapped in (`committed`), what the drafts show is what the journal says
    kept = kept_drafts(drafts) if moves is not None else None
    staged, committed = [], []
    try:
        # before the journal says they exist, the drafts are on the disk: a morning's few,
        # each with its folder; thousands (a Monday), with one sync of everything
        few = len(drafts) + len(moves or ()) <= ONE_BY_ONE
        write_drafts(root, drafts, durable=few)
        stage_moves(root, moves or (), staged)
        if few:
            for folder in sorted({os.path.dirname(path) or "." for path, _ in moves or ()}):
                files.fsync_dir(folder)
        elif drafts or moves:
            os.sync()
        if writes:
            with _ctrl_c_held():
                _commit_rows(root, marker, journal_path, journal_data, journal_header,
                             ledger_path, ledger_before, ledger_after, committed)
    except BaseException:
        if kept is not None and not committed:
            restore_drafts(kept, staged)
        raise
    finish_moves(staged)


@contextmanager
def _ctrl_c_held():
    """Ctrl-C held back while the journal and the ledger are written (a few milliseconds),
    then raised: a KeyboardInterrupt between the ledger's swap and the marker's removal
    would roll the journal back under the new ledger, and the day's touches would never be
    journaled. An I/O error still rolls both back; a kill is the marker's to undo."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set a handler; cadence's commands run there
        return
    held = []
    previous = signal.signal(signal.SIGINT, lambda *_: held.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous or signal.SIG_DFL)
    if held:
        raise KeyboardInterrupt  # the day is written whole; the command stops here


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
        raise files.write_failure(journal_path, err) from None
    size = info.st_size
    data = journal_data
    if journal_data:
        if size == 0:
            data = journal_header + journal_data
        elif not _ends_with_newline(journal_path):
            data = (b"\r\n" if journal_data.endswith(b"\r\n") else b"\n") + journal_data
    state = {"cadence": MARKER_VERSION, "journal_size": size, "journal_inode": info.st_ino,
             "journal_existed": existed, "appended": data.decode("utf-8", "surrogateescape"),
             "appended_size": len(data), "appended_sha256": files.digest(data),
             "ledger_before": files.digest(ledger_before),
             "ledger_after": None if ledger_after is None else files.digest(ledger_after)}
    try:
        files.atomic_write(marker, json.dumps(state, sort_keys=True).encode("utf-8"), follow=False)
    except OSError as err:
        if not existed:
            files.unlink_quietly(journal_path)  # the empty journal made above
        raise files.write_failure(marker, err) from None
    try:
        if data:
            try:
                files.append_bytes(journal_path, data)
            except OSError as err:
                raise files.write_failure(journal_path, err) from None
        if ledger_after is not None:
            try:
                files.atomic_write(ledger_path, ledger_after, expect=ledger_before)
            except OSError as err:
                raise files.write_failure(ledger_path, err) from None
        committed.append(True)
    except BaseException:
        try:
            if data or not existed:
                files.truncate(journal_path, size, existed)
            os.unlink(marker)
        except OSError:
            pass  # the marker stays: the next run finishes the rollback
        raise
    try:
        os.unlink(marker)
    except OSError:
        pass  # the run got through; the next run reads the marker as done
    files.fsync_dir(root)


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
