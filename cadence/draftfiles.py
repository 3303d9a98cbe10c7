"""The drafts on disk: a day's folder written whole, a draft replaced, drafts taken back, and
what a killed run left behind.

Nothing is written through a symbolic link that the config does not name: not the book's
drafts folder, not a day's folder, not a draft's name.
"""
from __future__ import annotations

import errno
import os
import stat

from .files import (NEW_FILE, TMP_SUFFIX, fsync_dir, tmp_prefix, unlink_quietly, write_all,
                    write_failure)
from .model import EXIT_CANTCREAT, Failure, Problem, Source

DRAFTS = "drafts"  # config.DEFAULT_PATHS["drafts"]: a link there is followed only if named


def clear_stale(targets, follow: bool = True) -> None:
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
        folders.setdefault(real[folder], set()).add(tmp_prefix(target))
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


def write_drafts(root: str, drafts, durable: bool = False) -> None:
    """Every draft in place; `durable`: each synced to the disk with its folder, else the
    caller syncs them all at once (commit.py: thousands of drafts, one sync).

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
        clear_stale([path for path, _ in files] + [folder], follow=False)
        if exists:
            for path, data in files:
                _replace_draft(path, data, pid, durable)
            if durable:
                fsync_dir(folder)
        else:
            _write_fresh(folder, files, pid, durable)


def kept_drafts(drafts) -> dict:
    """{path: its bytes, the text of a symbolic link standing there (str), or None when
    there is neither} of the files `drafts` replace (a day's overview, a few files): what
    `restore_drafts` puts back. A link is kept as a link, never read through."""
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
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            if stat.S_ISDIR(mode):  # a folder where the draft goes: named, as `run` names it
                raise write_failure(path, OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
            kept[path] = None
            continue
        with os.fdopen(fd, "rb") as handle:
            kept[path] = handle.read()
    return kept


def restore_drafts(kept: dict, staged: list) -> None:
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
                unlink_quietly(path)
            elif isinstance(data, str):
                _relink(path, data, pid)
            else:
                _replace_draft(path, data, pid)
        except Failure:
            pass


def _relink(path: str, target: str, pid: int) -> None:
    """The symbolic link `path` -> `target` again, in place of what stands there."""
    tmp = os.path.join(os.path.dirname(path) or ".", f"{tmp_prefix(path)}{pid}{TMP_SUFFIX}")
    try:
        os.symlink(target, tmp)
        os.replace(tmp, path)
    except OSError:
        unlink_quietly(tmp)


def stage_moves(root: str, moves, staged: list) -> None:
    """Rename drafts (a skipped touch's draft gets a suffix) or set them aside to be removed
    (a touch taken back), each added to `staged` as it is done (path, where it is now,
    removed): for `finish_moves` once the journal says so, or `restore_drafts`, even when
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
            os.path.join(folder, f"{tmp_prefix(path)}{pid}.taken-back{TMP_SUFFIX}")
        try:
            if stat.S_ISDIR(os.lstat(path).st_mode):  # a folder cadence did not make: kept
                raise write_failure(path, OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
            os.replace(path, now)
        except FileNotFoundError:
            continue
        except OSError as err:
            raise write_failure(path, err) from None
        staged.append((path, now, new is None))


def finish_moves(staged: list) -> None:
    """The drafts set aside removed, then a day's folder left empty."""
    emptied = []
    for _, now, removed in staged:
        if removed:
            unlink_quietly(now)
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


def _write_fresh(folder: str, files, pid: int, durable: bool) -> None:
    hidden = os.path.join(os.path.dirname(folder), f"{tmp_prefix(folder)}{pid}{TMP_SUFFIX}")
    path = folder  # what an error names: the folder, then each draft, then the folder again
    made = False
    try:
        os.mkdir(hidden)
        made = True
        for path, data in files:
            fd = os.open(os.path.join(hidden, os.path.basename(path)), NEW_FILE, 0o666)
            try:
                write_all(fd, data)
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
        path = folder
        if durable:
            fsync_dir(hidden)
        os.replace(hidden, folder)
        if durable:
            fsync_dir(os.path.dirname(folder) or ".")
    except OSError as err:
        if made:
            _remove_tree(hidden)
        raise write_failure(path, err) from None


def _replace_draft(path: str, data: bytes, pid: int, durable: bool = False) -> None:
    tmp = os.path.join(os.path.dirname(path) or ".", f"{tmp_prefix(path)}{pid}{TMP_SUFFIX}")
    made = False
    try:
        fd = os.open(tmp, NEW_FILE, 0o666)  # umask applies
        made = True
        try:
            write_all(fd, data)
            if durable:
                os.fsync(fd)
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
            unlink_quietly(tmp)
        raise write_failure(path, err) from None


def _remove_tree(path: str) -> None:
    """A folder we made and filled, gone again; what cannot go stays for the next run."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
