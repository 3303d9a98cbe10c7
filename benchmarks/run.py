"""Measure cadence against the bars of its performance promise; print a table.

    python benchmarks/run.py [--contacts 100000] [--million] [--repeat 3] [--work DIR]

Every figure is the median wall time of `--repeat` runs of a fresh process, and the peak RSS
of that process. The floors are measured in the same environment, in the same run:
- start-up: a Typer "hello world";
- the ledger floor: the stdlib csv module reading the ledger (DictReader) and writing it
  (DictWriter), the least any tool that reads and writes it must do.
Books come from benchmarks/generate.py (seeded), on a Wednesday with about 5% of contacts due.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TODAY = "2026-11-25"
PY = sys.executable
CADENCE = [PY, "-m", "cadence"]

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


def measure(cmd, repeat: int, prepare=None) -> tuple:
    """(median seconds, max peak RSS in MiB) of `repeat` runs of a fresh process."""
    times, peaks = [], []
    for _ in range(repeat):
        if prepare:
            prepare()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0,):
            raise SystemExit(f"{' '.join(map(str, cmd))} failed: {proc.stderr.read().decode()}")
        proc.stderr.close()
        times.append(elapsed)
        peaks.append(usage.ru_maxrss / 1024)
    return statistics.median(times), max(peaks)


def generate(out: str, contacts: int, years: int = 0) -> str:
    if not os.path.exists(os.path.join(out, "contacts.csv")):
        subprocess.run([PY, os.path.join(HERE, "generate.py"), out, "--contacts", str(contacts),
                        "--years", str(years), "--today", TODAY], check=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="also 1,000,000 contacts (slow)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "cadence-bench"))
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rows = []

    def add(check, n, seconds, floor, bar, peak=None, floor_peak=None, peak_bar=None):
        ratio = seconds / floor
        ok = ratio <= bar and (peak_bar is None or peak / floor_peak <= peak_bar)
        memory = f"{peak:.0f} / {floor_peak:.0f} MiB" if peak is not None and floor_peak else ""
        rows.append((check, n, f"{seconds:.2f}s", f"{floor:.2f}s", f"{ratio:.2f}x",
                     f"<= {bar}x", memory, "ok" if ok else "OVER"))

    hello = os.path.join(args.work, "hello.py")
    floor = os.path.join(args.work, "floor.py")
    with open(hello, "w") as handle:
        handle.write(HELLO)
    with open(floor, "w") as handle:
        handle.write(FLOOR)

    small = generate(os.path.join(args.work, "b15"), 15)
    t_hello, _ = measure([PY, hello], max(args.repeat, 7))
    t_small, _ = measure(CADENCE + ["-C", small, "due", "--today", TODAY], max(args.repeat, 7))
    add("start-up: due, 15 contacts", 15, t_small, t_hello, 1.2)

    def ledger_case(n: int):
        book = generate(os.path.join(args.work, f"b{n}"), n)
        ledger = os.path.join(book, "contacts.csv")
        t_floor, m_floor = measure([PY, floor, ledger, ledger + ".out"], args.repeat)
        t_due, m_due = measure(CADENCE + ["-C", book, "due", "--today", TODAY], args.repeat)
        add("due", n, t_due, t_floor, 1.5, m_due, m_floor, 2.0)
        scratch = os.path.join(args.work, f"run{n}")

        def fresh():
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.copytree(book, scratch)

        t_run, m_run = measure(CADENCE + ["-C", scratch, "run", "--today", TODAY, "--quiet"],
                               args.repeat, fresh)
        add("run", n, t_run, t_floor, 3.0, m_run, m_floor)
        return t_due

    base = ledger_case(args.contacts)
    if args.million:
        big = ledger_case(10 * args.contacts)
        rows.append(("growth: due x10 contacts", 10 * args.contacts, f"{big:.2f}s", f"{base:.2f}s",
                     f"{big / base:.2f}x", "<= 11x", "", "ok" if big / base <= 11 else "OVER"))

    n = max(args.contacts // 10, 1000)
    short = generate(os.path.join(args.work, f"j{n}-0"), n, 0)
    long = generate(os.path.join(args.work, f"j{n}-6"), n, 6)
    rows_short = sum(1 for _ in open(os.path.join(short, "history.csv"), "rb"))
    rows_long = sum(1 for _ in open(os.path.join(long, "history.csv"), "rb"))
    t_short, _ = measure(CADENCE + ["-C", short, "due", "--today", TODAY], args.repeat)
    t_long, _ = measure(CADENCE + ["-C", long, "due", "--today", TODAY], args.repeat)
    growth = rows_long / rows_short
    rows.append((f"journal x{growth:.0f} rows: due", n, f"{t_long:.2f}s", f"{t_short:.2f}s",
                 f"{t_long / t_short:.2f}x", "<= 1.10x", "", "ok" if t_long / t_short <= 1.10 else "OVER"))

    header = ("check", "N", "time", "floor", "ratio", "bar", "peak RSS (cadence / floor)", "")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} cores, {sys.platform}")


if __name__ == "__main__":
    main()
