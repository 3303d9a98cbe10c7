import itertools
import os
import sys
import tempfile

import pytest

import cadence.cli

sys.path.insert(0, os.path.dirname(__file__))

# The suite replays fixed days of 2026 whatever the clock says: `run --today` far from the
# clock asks for --yes. The limit is lifted for the whole session (module fixtures run too);
# smallbook.ANY_DAY does the same in a fresh interpreter, and the tests of the check itself
# put it back (tests/test_day_commands.py).
cadence.cli.FAR_DAYS = 10 ** 6

# The tests' files (pytest's tmp_path, the property tests' books, each worker's Dovecot) go to
# memory where the machine has it to spare, as /dev/shm on Linux: the suite writes, syncs and
# removes some hundred thousand small files, and on the project's 2-core machine four runs in
# turns took 94 and 96 s with them in memory against 115 and 122 s on its disk, with under half
# the system time. No test needs a disk: a full disk is simulated, and the order in which files
# reach the disk is recorded, not timed. TMPDIR, when set, or `--basetemp` chooses instead.
MEMORY = "/dev/shm"
MEMORY_NEEDED = 2 * 1024 ** 3  # bytes free; a whole run kept under 100 MB there at its peak


def _memory_folder():
    """/dev/shm when it is a folder this user may write with room to spare, else None."""
    if os.environ.get("TMPDIR") or not sys.platform.startswith("linux"):
        return None
    try:
        free = os.statvfs(MEMORY)
    except OSError:
        return None
    if not os.access(MEMORY, os.W_OK | os.X_OK) or free.f_bavail * free.f_frsize < MEMORY_NEEDED:
        return None
    return MEMORY


if _memory_folder():
    tempfile.tempdir = MEMORY

# Python keeps the bytecode of cadence's modules beside them (__pycache__/, ignored by git), as it
# does on most machines: where the environment says PYTHONDONTWRITEBYTECODE, every cadence process
# a test starts (about forty: signals, pipes, locks, a kill mid-run) compiled cadence anew, a
# quarter of a second each. Set before pytest-xdist starts its workers, which inherit it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

# Typer turns the app into its click command anew on every `CliRunner.invoke` (reading every
# command's signature: 20 ms here), and the suite invokes the whole app thousands of times. The
# app does not change once its commands are loaded, so each app is turned once; `cadence` itself
# turns it once per process too (cadence.main.run).
import functools  # noqa: E402

import typer.testing  # noqa: E402

typer.testing._get_command = functools.lru_cache(maxsize=None)(typer.testing._get_command)

# The property tests draw the same examples on every run of the plain suite (CI, the README's
# command), so that its verdict does not depend on luck; a deliberate deeper run
# (CADENCE_PROPERTY_EXAMPLES=N, see tests/randombooks.py) draws fresh ones.
from hypothesis import settings  # noqa: E402

settings.register_profile(
    "cadence", derandomize=os.environ.get("CADENCE_PROPERTY_EXAMPLES", "1") in ("", "1"))
settings.load_profile("cadence")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite the expected files of the golden books; review the diff.")


@pytest.fixture
def update_golden(request):
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session")
def _caches(tmp_path_factory):
    return tmp_path_factory.mktemp("caches")


_TESTS = itertools.count()


@pytest.fixture(autouse=True)
def _stable_env(monkeypatch, _caches):
    """No test depends on the machine's clock zone, locale or an exported CADENCE_TODAY, and
    none reads or writes the user's cache: each test has a cache folder of its own, which
    cadence makes when it first keeps something there (most tests never do; pytest's `mktemp`
    reads the whole folder of test folders each time, thousands by the end of a run)."""
    monkeypatch.delenv("CADENCE_TODAY", raising=False)
    monkeypatch.delenv("CADENCE_NO_CACHE", raising=False)
    monkeypatch.setenv("CADENCE_CACHE_DIR", str(_caches / f"cache{next(_TESTS)}"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")

# the folders of test data hold no tests (tests/errors alone has thousands of files to walk)
collect_ignore = ["books", "daily", "errors", "sheets"]
