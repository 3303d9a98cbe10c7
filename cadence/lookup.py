"""Which templates a book has, without importing Jinja (kept light for start-up)."""
from __future__ import annotations

import os

SUFFIX = ".j2"


def template_names(folder: str) -> set:
    """Names of the templates in `folder` (relative, `/`-separated, without `.j2`).

    A file whose real path lies outside the folder (a symlink pointing out) is not a template;
    folders that are symlinks are not entered.
    """
    names = set()
    if not os.path.isdir(folder):
        return names
    root = os.path.realpath(folder)
    stack = [("", folder)]
    while stack:
        prefix, path = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append((prefix + entry.name + "/", entry.path))
            elif entry.name.endswith(SUFFIX) and entry.is_file():
                if entry.is_symlink() and os.path.commonpath(
                        [root, os.path.realpath(entry.path)]) != root:
                    continue
                names.add(prefix + entry.name[: -len(SUFFIX)])
    return names


def template_file(name: str, channel: str, names) -> str:
    """`T.C.j2` if it exists, else `T.j2` (relative to the templates folder); "" when neither."""
    if f"{name}.{channel}" in names:
        return f"{name}.{channel}{SUFFIX}"
    if name in names:
        return f"{name}{SUFFIX}"
    return ""
