"""Which templates a book has, without importing Jinja (kept light for start-up)."""
from __future__ import annotations

import os

SUFFIX = ".j2"


def template_names(folder: str) -> set:
    """Names of the templates in `folder` (relative, `/`-separated, without `.j2`).

    A file whose real path lies outside the folder (a symlink pointing out) is not a template.
    """
    names = set()
    if not os.path.isdir(folder):
        return names
    root = os.path.realpath(folder)
    for base, dirs, files in os.walk(folder):
        dirs.sort()
        for filename in sorted(files):
            if not filename.endswith(SUFFIX):
                continue
            full = os.path.join(base, filename)
            if os.path.commonpath([root, os.path.realpath(full)]) != root:
                continue
            rel = os.path.relpath(full, folder).replace(os.sep, "/")
            names.add(rel[: -len(SUFFIX)])
    return names


def template_file(name: str, channel: str, names) -> str:
    """`T.C.j2` if it exists, else `T.j2` (relative to the templates folder); "" when neither."""
    if f"{name}.{channel}" in names:
        return f"{name}.{channel}{SUFFIX}"
    if name in names:
        return f"{name}{SUFFIX}"
    return ""
