"""Where cadence may write: only inside the book's folder (or where the user's own environment
allows), into a drafts folder of its own, and a journal that is no other file's name. What
`run` refuses here, `run --dry-run`, `check` and `doctor` refuse too.
"""
from __future__ import annotations

import os

from .model import EXIT_CONFIG, Problem, Source


def _within(path: str, folder: str) -> bool:
    return os.path.commonpath([folder, path]) == folder


def places_outside(config, allowed=()) -> list:
    """Problems for each place cadence would write to (the ledger, the journal, the drafts)
    whose real location lies outside the book's folder, unless it lies in one of `allowed`
    (the user's own setting, never the book's: a book's cadence.yaml or a link in it is not
    trusted to send cadence's writes elsewhere)."""
    root = os.path.realpath(config.root)
    ok = [root] + [os.path.realpath(a) for a in allowed if a]
    problems = []
    for key in ("ledger", "history", "drafts"):
        path = getattr(config, key)
        if key == "drafts" and os.path.islink(path) and os.path.normpath(path) == os.path.join(
                config.root, "drafts"):
            continue  # the book's own drafts folder as a link: cadence.files refuses it, said so
        real = os.path.realpath(path)
        if any(_within(real, place) for place in ok):
            continue
        where = config.places.get(key) or Source(getattr(config, key))
        shown = os.path.relpath(real, root)
        problems.append(Problem(
            where, f"`{key}` leads out of the book's folder, to {shown}: cadence writes only "
            "inside the book", "if that place is yours, allow it in your own environment "
            f"(not in the book): CADENCE_WRITE_OUTSIDE={real}", EXIT_CONFIG))
    problems += _drafts_misplaced(config)
    try:  # the journal is appended to in place: through a hard link, any file could grow
        linked = os.stat(config.history).st_nlink > 1
    except OSError:
        linked = False
    if linked:
        problems.append(Problem(
            Source(config.history), "the journal has another name (a hard link): cadence "
            "appends only to a journal of the book's own", "make it a file of its own: "
            "cp history.csv history.new && mv history.new history.csv", EXIT_CONFIG))
    return problems


def _drafts_misplaced(config) -> list:
    """A `drafts` setting that names a file (the ledger, say), the book's folder itself, or
    the playbooks or templates folder: a day's folders of drafts would stand among the book's
    own files, and `run` would fail or tidy up where it has no business."""
    real, root = os.path.realpath(config.drafts), os.path.realpath(config.root)
    folders = [os.path.realpath(f) for f in (config.playbooks, config.templates)]
    if os.path.exists(real) and not os.path.isdir(real):
        said = "is a file, not a folder"
    elif real == root:
        said = "is the book's own folder"
    elif any(_within(real, f) and not _within(root, f) for f in folders):
        # (a playbooks or templates folder that holds the book itself is a link that
        # `check` warns about; every folder of the book lies in it)
        said = "lies in the playbooks or templates folder"
    else:
        return []
    return [Problem(config.places.get("drafts") or Source(config.drafts),
                    f"`drafts` {said}: each day's drafts need a folder of their own",
                    "leave `drafts:` out (the book's drafts/ folder) or name a folder for "
                    "drafts only", EXIT_CONFIG)]
