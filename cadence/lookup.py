"""Names: which template file a touch uses, by the names of the book's templates, and the
file name of its draft (no Jinja, no disk)."""
from __future__ import annotations

import hashlib
import re

SUFFIX = ".j2"
HTML = ".html"


def template_file(name: str, channel: str, names) -> str:
    """`T.C.j2` if it exists, else `T.j2` (relative to the templates folder); "" when neither."""
    if f"{name}.{channel}" in names:
        return f"{name}.{channel}{SUFFIX}"
    if name in names:
        return f"{name}{SUFFIX}"
    return ""


def html_twin(filename: str) -> str:
    """The HTML twin's file name of a text template's file name (`T.email.j2` has its twin in
    `T.email.html.j2`, `T.j2` in `T.html.j2`)."""
    return filename[: -len(SUFFIX)] + HTML + SUFFIX


_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
_UNSAFE = re.compile(r"[^\w.-]+")


def safe_name(text: str, limit: int = 60) -> str:
    """A file-name part that cannot leave its folder, and distinct on any disk: a name that was
    altered or has capitals gets a hash of the original."""
    name = _UNSAFE.sub("_", text).strip("._-")[:limit]
    # capitals get the hash too: `Ann` and `ann` must not share a file on macOS or Windows;
    # so does `--`, the separator of contact and step in a draft's name
    if name != text or not name or name != name.lower() or "--" in name \
            or name.split(".")[0].lower() in _RESERVED:
        name = f"{name or 'x'}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
    return name


def draft_name(contact_id: str, step: str, channel: str) -> str:
    """The draft's file name in drafts/<today>/: from ids only, so the index can link to it."""
    return f"{safe_name(contact_id)}--{safe_name(step)}" + (".eml" if channel == "email" else ".md")
