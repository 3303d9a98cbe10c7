"""A small book for the reliability tests: build it, run the CLI on it, snapshot its files.

The book is small on purpose (one playbook, two templates, two contacts) so that every case can
build its own copy in tmp_path and change one file; the snapshot compares every byte before and
after, so "nothing changed" is proven, not assumed.
"""
from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from cadence.main import app

LOCK = ".cadence.lock"  # the lock file may be left behind, empty: the snapshots ignore it
TODAY = "2026-11-02"  # decide-1 (email) is due for both contacts
NEXT = "2026-11-04"  # decide-2 (call) is due

PLAYBOOK = """\
description: A small playbook for the reliability tests.
channels: [email, call, letter]
limits:
  min_gap: 2 days
  per_week: 3
phases:
  - name: decide
    until: 30 days
    steps:
      - {at: 1 day, channel: email, template: hello}
      - {after: 2 days, channel: call, template: call}
  - name: keep
    every: 1 week
    channel: email
    template: hello
"""

CONFIG = """\
sender:
  name: Eva Konsult
  email: eva@konsult.example
"""

HEADER = "id,name,email,phone,playbook,started\n"
LEDGER = HEADER + (
    "c1,Ann Lind,ann@example.com,+46701234567,p,2026-11-01\n"
    "c2,Bob Berg,bob@example.com,,p,2026-11-01\n"
)
JOURNAL = "date,contact,event,playbook,step,channel,template,note\n"

FILES = {
    "cadence.yaml": CONFIG,
    "playbooks/p.yaml": PLAYBOOK,
    "templates/hello.j2": "Subject: Hello {{ contact.name }}\n\nHello {{ contact.name }},\nthis is {{ touch.step }}.\n",
    "templates/call.j2": "Call {{ contact.name }} about {{ touch.step }}.\n",
    "templates/call.email.j2": "Subject: Can we talk, {{ contact.name }}?\n\nA call would help.\n",
    "contacts.csv": LEDGER,
    "history.csv": JOURNAL,
}


def build(root, overrides=None) -> str:
    """Write the small book under `root`, with `overrides` ({path: text, bytes or None})."""
    files = dict(FILES)
    files.update(overrides or {})
    for rel, content in files.items():
        if content is None:
            continue
        path = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(root)


def snapshot(root) -> dict:
    """{relative path: bytes} of every file under root, the lock file aside."""
    out = {}
    for base, dirs, names in os.walk(str(root)):
        dirs.sort()
        for name in sorted(names):
            if name == LOCK:
                continue
            path = os.path.join(base, name)
            rel = os.path.relpath(path, str(root)).replace(os.sep, "/")
            if os.path.islink(path):
                out[rel] = ("symlink", os.readlink(path))
                continue
            with open(path, "rb") as handle:
                out[rel] = handle.read()
    return out


def changed(before: dict, after: dict) -> list:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def invoke(*args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


# The suite replays fixed days of 2026 whatever the clock says; `run --today` far from the clock
# asks for --yes (conftest.py lifts the limit in the tests' own process, this in a fresh one).
ANY_DAY = "import cadence.cli\ncadence.cli.FAR_DAYS = 10 ** 6\n"

# a `wrapper` that calls the wrapper's own `die()` right after the ledger is swapped in (the
# new ledger in place, the old one at the temporary name, the marker still there)
AFTER_THE_SWAP = """
import cadence.files as f
real_exchange = f._exchange
def exchange(a, b):
    done = real_exchange(a, b)
    if b.endswith('contacts.csv'): die()
    return done
f._exchange = exchange
"""


def _command(args, env, wrapper: str) -> tuple:
    """(argv, environment) of cadence ARGS in a fresh interpreter (`python -c`)."""
    code = ANY_DAY + wrapper + "\nimport sys\nfrom cadence.main import run\nsys.argv = ['cadence'] + sys.argv[1:]\nrun()\n"
    full_env = dict(os.environ)
    full_env.pop("CADENCE_TODAY", None)
    full_env.update(env or {})
    return [sys.executable, "-c", code, *[str(a) for a in args]], full_env


def cadence_process(*args, env=None, cwd=None, wrapper: str = "", **kwargs):
    """cadence ARGS in a fresh interpreter (`python -c`); `wrapper` is Python run before the CLI."""
    argv, full_env = _command(args, env, wrapper)
    return subprocess.run(argv, capture_output=True, env=full_env, cwd=cwd, **kwargs)


def cadence_popen(*args, env=None, wrapper: str = "", **kwargs) -> subprocess.Popen:
    """cadence_process, started and left running (its pipes are the caller's to read or close)."""
    argv, full_env = _command(args, env, wrapper)
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.Popen(argv, stderr=subprocess.PIPE, env=full_env, **kwargs)
