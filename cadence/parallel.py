"""Share CPU-bound work between this process and one forked child.

`run` renders a day's drafts, thousands on a large book, and Python does that on one core.
Where `os.fork` exists and there is enough work, a child process renders the second half
while this one renders the first, and sends its results back pickled through a pipe. The
results come back in the order of the items, so nothing written depends on the split. A
`Failure` (a template error, say) comes back as a value; anything else that goes wrong in the
child is raised here as a RuntimeError.
"""
from __future__ import annotations

import os
import pickle

from .model import Failure

MIN_ITEMS = 400  # below this, forking costs more than it saves
_INTERRUPTED = 130  # the child's exit code when it was interrupted


def map_split(function, items: list, min_items: int = 0) -> list:
    """[("ok", function(item)) or ("failure", problems)] for each item, in order."""
    if len(items) < (min_items or MIN_ITEMS) or not hasattr(os, "fork") \
            or (os.cpu_count() or 1) < 2:
        return [_call(function, item) for item in items]
    half = len(items) // 2
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its half, pickled into the pipe, then gone without cleanup
        code = 1
        try:
            os.close(read_end)
            data = pickle.dumps([_call(function, item) for item in items[half:]],
                                protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            code = 0
        except KeyboardInterrupt:
            code = _INTERRUPTED
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        mine = [_call(function, item) for item in items[:half]]
    finally:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) in (_INTERRUPTED, -2):  # Ctrl-C reached it too
        raise KeyboardInterrupt
    if status != 0:
        raise RuntimeError("the process rendering the second half of the drafts failed")
    return mine + pickle.loads(data)


def _call(function, item) -> tuple:
    try:
        return "ok", function(item)
    except Failure as err:
        return "failure", err.problems
