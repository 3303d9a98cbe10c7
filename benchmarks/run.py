"""Measure cadence against the bars of its performance promise; print a table.

    python benchmarks/run.py [--contacts 100000] [--million] [--repeat 3] [--work DIR]

Every figure is the median wall time of `--repeat` runs of a fresh `cadence` process (the
installed command, as people and cron run it), and the peak RSS of that process. The floors
are measured in the same environment, in the same run:
- start-up: a Typer "hello world", run in turns with `cadence due` (21 of each);
- the ledger floor: the stdlib csv module reading the ledger (DictReader) and writing it
  (DictWriter), the least any tool that reads and writes it must do.

The scene is a morning: books come from benchmarks/generate.py (seeded) standing where
yesterday's run left them, yesterday's `cadence run` (cron) is replayed untimed, and then
today's `due` and `run` are timed, on a Wednesday with about 4% of the contacts due (the share
the performance promise names; the book's contacts started over two years). That run leaves
cadence's cache (see cadence/cache.py) as every daily run does. A heavier day, a book whose
contacts started over one year (about 6% due), is timed too and shown without a bar. The same
commands with no cache at all (CADENCE_NO_CACHE=1: a first run, or a changed playbook) are
measured too and shown without a bar. Bytecode is written as a normal install does (PYTHONDONTWRITEBYTECODE
is unset for the measured processes), and the cache lives under --work, not in your home.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
TODAY = "2026-11-25"
SPAN = 730  # the book's contacts started over two years: about 4% are due on TODAY
HEAVY_SPAN = 365  # over one year: more of them in their decision window, about 6% due
YESTERDAY = (date.fromisoformat(TODAY) - timedelta(days=1)).isoformat()
PY = sys.executable
_SCRIPT = os.path.join(os.path.dirname(PY), "cadence")
CADENCE = [_SCRIPT] if os.path.exists(_SCRIPT) else [PY, "-m", "cadence"]

HELLO = """\
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "world"):
    print(f"hello {name}")
app()
"""

FLOOR = """\
import csv, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, newline="", encoding="utf-8") as f:
    reader = csv.DictReader(f)
    rows = list(reader)
with open(dst, "w", newline="", encoding="utf-8") as f:
    writer = csv.DictWriter(f, fieldnames=reader.fieldnames)
    writer.writeheader()
    writer.writerows(rows)
"""


class Bench:
    def __init__(self, work: str, repeat: int):
        self.work, self.repeat = work, repeat
        self.share = {}  # morning book -> share of its contacts due on TODAY, as "4.1%"
        self.env = dict(os.environ, CADENCE_CACHE_DIR=os.path.join(work, "cache"))
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env.pop("CADENCE_NO_CACHE", None)
        self.env.pop("CADENCE_TODAY", None)
        self.cold = dict(self.env, CADENCE_NO_CACHE="1")

    def measure(self, cmd, prepare=None, env=None, repeat=None) -> tuple:
        """(median seconds, max peak RSS in MiB) of runs of a fresh process."""
        times, peaks = [], []
        for _ in range(repeat or self.repeat):
            if prepare:
                prepare()
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    env=env or self.env)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            code = os.waitstatus_to_exitcode(status)
            err = proc.stderr.read().decode()
            proc.stderr.close()
            if code != 0:
                raise SystemExit(f"{' '.join(map(str, cmd))} failed ({code}): {err}")
            times.append(elapsed)
            peaks.append(usage.ru_maxrss / 1024)
        return statistics.median(times), max(peaks)

    def measure_in_turns(self, first, second, repeat: int) -> tuple:
        """(median seconds of `first`, of `second`), run in turns: a machine that speeds up or
        slows down while they are measured weighs on both alike."""
        a, b = [], []
        for _ in range(repeat):
            a.append(self.measure(first, repeat=1)[0])
            b.append(self.measure(second, repeat=1)[0])
        return statistics.median(a), statistics.median(b)

    def cadence(self, *args, env=None) -> None:
        subprocess.run(CADENCE + [str(a) for a in args], check=True, env=env or self.env,
                       stdout=subprocess.DEVNULL)

    def generate(self, name: str, contacts: int, years: int = 0, span: int = SPAN) -> str:
        out = os.path.join(self.work, f"{name}-s{span}")
        if not os.path.exists(os.path.join(out, "contacts.csv")):
            subprocess.run([PY, os.path.join(HERE, "generate.py"), out, "--contacts",
                            str(contacts), "--years", str(years), "--span", str(span),
                            "--today", TODAY], check=True)
        return out

    def discard(self, path: str) -> None:
        """Move `path` out of the way; it is deleted at the end. (Deleting thousands of files
        right before a timed run slows the run's own file creation on some disks.)"""
        if os.path.lexists(path):
            root = os.path.join(self.work, "trash")
            os.makedirs(root, exist_ok=True)
            os.rename(path, os.path.join(tempfile.mkdtemp(dir=root), "x"))

    def empty_trash(self) -> None:
        shutil.rmtree(os.path.join(self.work, "trash"), ignore_errors=True)

    def morning(self, book: str, name: str) -> str:
        """A copy of `book` after yesterday's cron run (untimed), with the cache it left; the
        book and its cache are saved, so that every timed run starts from the same morning."""
        scratch = os.path.join(self.work, "morning", name)
        self.discard(scratch)
        shutil.copytree(book, scratch, ignore=shutil.ignore_patterns("*.out"))
        self.cadence("-C", scratch, "run", "--today", YESTERDAY, "--quiet")
        # bytecode, warm files, and the share of the contacts due today
        due = subprocess.run(CADENCE + ["-C", scratch, "due", "--today", TODAY, "--json"],
                             check=True, env=self.env, capture_output=True).stdout
        with open(os.path.join(scratch, "contacts.csv"), "rb") as handle:
            contacts = sum(1 for _ in handle) - 1
        self.share[scratch] = f"{100 * len(json.loads(due)['due']) / contacts:.1f}%"
        self.discard(scratch + ".saved")
        shutil.copytree(scratch, scratch + ".saved", symlinks=True)
        cache = self.env["CADENCE_CACHE_DIR"]
        self.discard(cache + ".saved")
        if os.path.isdir(cache):
            shutil.copytree(cache, cache + ".saved")
        os.sync()
        return scratch

    def restore(self, scratch: str):
        """What puts the morning back before a timed run of `run`."""
        def again():
            self.discard(scratch)
            shutil.copytree(scratch + ".saved", scratch, symlinks=True)
            cache = self.env["CADENCE_CACHE_DIR"]
            self.discard(cache)
            if os.path.isdir(cache + ".saved"):
                shutil.copytree(cache + ".saved", cache)
            os.sync()  # the copy's writes are not the run's to wait for
        return again


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="also 10x the contacts (slow)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "cadence-bench"))
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    bench = Bench(args.work, args.repeat)
    rows = []

    def add(check, n, seconds, floor, bar, peak=None, floor_peak=None, peak_bar=None):
        ratio = seconds / floor
        ok = "" if bar is None else (
            "ok" if ratio <= bar and (peak_bar is None or peak / floor_peak <= peak_bar)
            else "OVER")
        memory = f"{peak:.0f} / {floor_peak:.0f} MiB" if peak is not None and floor_peak else ""
        rows.append((check, n, f"{seconds:.2f}s", f"{floor:.2f}s", f"{ratio:.2f}x",
                     "" if bar is None else f"<= {bar}x", memory, ok))

    hello = os.path.join(args.work, "hello.py")
    floor = os.path.join(args.work, "floor.py")
    with open(hello, "w") as handle:
        handle.write(HELLO)
    with open(floor, "w") as handle:
        handle.write(FLOOR)

    small = bench.morning(bench.generate("b15", 15), "b15")
    repeat = max(args.repeat, 21)
    due_small = CADENCE + ["-C", small, "due", "--today", TODAY]
    bench.measure_in_turns([PY, hello], due_small, 3)  # warm the file cache
    t_hello, t_small = bench.measure_in_turns([PY, hello], due_small, repeat)
    add("start-up: due, 15 contacts", 15, t_small, t_hello, 1.2)

    def ledger_case(n: int) -> float:
        book = bench.generate(f"b{n}", n)
        ledger = os.path.join(book, "contacts.csv")
        t_floor, m_floor = bench.measure([PY, floor, ledger, ledger + ".out"])
        scratch = bench.morning(book, f"b{n}")
        again = bench.restore(scratch)
        due = CADENCE + ["-C", scratch, "due", "--today", TODAY]
        run = CADENCE + ["-C", scratch, "run", "--today", TODAY, "--quiet"]
        t_due, m_due = bench.measure(due)
        add("due", n, t_due, t_floor, 1.5, m_due, m_floor, 2.0)
        t_run, m_run = bench.measure(run, again)
        add(f"run ({bench.share[scratch]} due)", n, t_run, t_floor, 3.0, m_run, m_floor, 2.0)
        t_cold, m_cold = bench.measure(due, again, env=bench.cold, repeat=1)
        add("  due, no cache (first run)", n, t_cold, t_floor, None, m_cold, m_floor)
        t_cold, m_cold = bench.measure(run, again, env=bench.cold, repeat=1)
        add("  run, no cache (first run)", n, t_cold, t_floor, None, m_cold, m_floor)
        again()
        if n == args.contacts:  # a heavier day: a younger book, more in their decision window
            heavy = bench.morning(bench.generate(f"b{n}", n, span=HEAVY_SPAN), f"b{n}-heavy")
            again = bench.restore(heavy)
            t_heavy, m_heavy = bench.measure(
                CADENCE + ["-C", heavy, "run", "--today", TODAY, "--quiet"], again)
            add(f"  run, {bench.share[heavy]} due", n, t_heavy, t_floor, None, m_heavy, m_floor)
            again()
        return t_due

    base = ledger_case(args.contacts)
    if args.million:
        big = ledger_case(10 * args.contacts)
        rows.append(("growth: due x10 contacts", 10 * args.contacts, f"{big:.2f}s", f"{base:.2f}s",
                     f"{big / base:.2f}x", "<= 11x", "", "ok" if big / base <= 11 else "OVER"))

    n = max(args.contacts // 10, 1000)
    short = bench.morning(bench.generate(f"j{n}-0", n, 0), f"j{n}-0")
    # eight earlier years of touches: ten times the rows of the two years' own
    long = bench.morning(bench.generate(f"j{n}-8", n, 8), f"j{n}-8")
    rows_short = sum(1 for _ in open(os.path.join(short, "history.csv"), "rb"))
    rows_long = sum(1 for _ in open(os.path.join(long, "history.csv"), "rb"))
    t_short, t_long = bench.measure_in_turns(CADENCE + ["-C", short, "due", "--today", TODAY],
                                             CADENCE + ["-C", long, "due", "--today", TODAY],
                                             max(args.repeat, 7))
    growth = rows_long / rows_short
    rows.append((f"journal x{growth:.0f} rows: due", n, f"{t_long:.2f}s", f"{t_short:.2f}s",
                 f"{t_long / t_short:.2f}x", "<= 1.10x", "", "ok" if t_long / t_short <= 1.10 else "OVER"))

    bench.empty_trash()
    header = ("check", "N", "time", "floor", "ratio", "bar", "peak RSS (cadence / floor)", "")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} cores, {sys.platform}")
    if args.contacts != 100_000:
        print("(the bars are set for 100,000 contacts: on a smaller book start-up weighs more "
              "than the ledger, and the ratios say little)")


if __name__ == "__main__":
    main()
