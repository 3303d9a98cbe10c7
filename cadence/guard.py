"""One draft's rendering under a deadline and a memory ceiling: the clock's signal and the
process's limits, which only the edge touches (cadence.book makes the renderer with them).
"""
from __future__ import annotations

import os
import weakref
from contextlib import contextmanager
from typing import Optional

from .model import Overtime

RENDER_SECONDS = 10  # one draft's rendering; a run holds the book's lock meanwhile
RENDER_MEMORY = 1 << 30  # bytes one draft's rendering may take on top of what the command holds
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class Guard:
    """One draft's rendering, `with guard():`, within RENDER_SECONDS (`deadline`) and
    RENDER_MEMORY: the address space (RLIMIT_AS) it may add to what the process holds, so
    that a template that gets past every bound of cadence.bounds (texts kept in a list a
    thousand times) meets MemoryError, a template error, not the machine's swap or its
    out-of-memory killer. The limit is set and put back around each rendering: 2 to 4 us a
    draft, measured, /proc/self/statm kept open for it. Where it or RLIMIT_AS is missing
    (not Linux) there is no ceiling."""

    def __init__(self, seconds: Optional[float] = None, memory: Optional[int] = None):
        self.seconds, self.memory = seconds, memory
        self.statm = None  # /proc/self/statm, opened at the first rendering

    def __call__(self) -> "_Rendering":
        return _Rendering(self)

    def _ceiling(self) -> Optional[tuple]:
        """Set the ceiling; the limits to put back, or None when none was set."""
        try:
            import resource

            if self.statm is None:
                self.statm = open("/proc/self/statm", "rb", buffering=0)
                weakref.finalize(self, self.statm.close)
            held = int(os.pread(self.statm.fileno(), 64, 0).split()[0]) * PAGE
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        except (ImportError, OSError, ValueError, IndexError, AttributeError):
            return None
        limit = held + (RENDER_MEMORY if self.memory is None else self.memory)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft != resource.RLIM_INFINITY and soft <= limit:
            return None  # a lower limit holds already
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        return soft, hard


class _Rendering:
    """One rendering under a Guard: its own timer and the limits to put back."""

    def __init__(self, guard: Guard):
        self.guard, self.timer, self.limits = guard, None, None

    def __enter__(self):
        self.limits = self.guard._ceiling()
        self.timer = deadline(self.guard.seconds)
        self.timer.__enter__()
        return self

    def __exit__(self, *error):
        try:
            return self.timer.__exit__(*error)
        finally:
            if self.limits is not None:
                import resource

                resource.setrlimit(resource.RLIMIT_AS, self.limits)


@contextmanager
def deadline(seconds: Optional[float] = None):
    """Raise Overtime in the block once `seconds` (RENDER_SECONDS) have passed: a template
    that loops for ever. Python delivers signals to the main thread only: elsewhere there is
    no deadline."""
    import signal
    import threading

    seconds = RENDER_SECONDS if seconds is None else seconds
    if not hasattr(signal, "setitimer") or \
            threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise Overtime(f"ran for more than {seconds:g} seconds")

    before = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
