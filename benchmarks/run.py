"""Measure cadence on the mornings its users live through, against floors; print one table.

    python benchmarks/run.py [--contacts 100000] [--repeat 3] [--million] [--work DIR]
                             [--only SCENES] [--keep] [--json]

Every measured command is a fresh process of the installed `cadence` script, as cron runs it
(bytecode written as any installed program writes it: PYTHONDONTWRITEBYTECODE is unset; any
cache of cadence's lives under the work folder: CADENCE_CACHE_DIR, one folder a scene).

Scenes (`--only`, comma-separated):

  startup  `cadence due` on a 15-contact book against a Typer "hello world", in turns
           (21 of each at least); bar: median ratio <= 1.2x.
  draft    the cost of one draft: a book of 5,000 contacts that all started the Monday, each
           due a first email on the Tuesday; (Tuesday's `run` - Monday's `run`, which drafts
           nothing) / 5,000, against mailmerge on the same 5,000 rows with the same template
           (`--dry-run --no-limit`, output discarded): (5,000 rows - 1 row) / 4,999.
           Bar: cadence's cost below mailmerge's. mailmerge's cost is also what `run`'s bar
           allows a draft (below).
  week     at --contacts, Monday 2026-11-23 (the Monday after a weekend) to Friday 2026-11-27,
           the book carried from morning to morning as cron would: each morning `due`, then
           `run --quiet` (its drafts counted), then `due` again after it.
  cold     the Wednesday again from its saved morning, with a comment line added to a playbook
           (its bytes changed, nothing else): `due` and `run`, each the first after the edit.
  nocache  the Wednesday with CADENCE_NO_CACHE=1 (a first run on a book); no bar.
  journal  the Monday's `due` on the same book with 8 more years of journal rows; no bar.
  million  (also with --million) the Wednesday's `due` and `run` at 10 x --contacts; growth bar:
           `due` there <= 11x the Wednesday's `due` at --contacts.

Floors: each cadence process is measured in a pair with its floors, run just before it on the
book as it stands: the ledger floor (the stdlib csv module reads the ledger with DictReader and
writes it with DictWriter, in a fresh `python`), and the book floor (the ledger floor, plus
reading every row of history.csv with csv.reader: the least a tool that honours the journal
reads). Ratio = cadence / ledger floor of the same pair; min/median/max over --repeat pairs.
Bars are checked on the median ratio against the ledger floor: `due` <= 1.5x; `run` <= 3x plus,
for each draft it wrote, mailmerge's cost of a draft (measured in this run); peak memory (max
RSS, from wait4) <= 2x the floor's. The book-floor ratio is shown beside, without a bar.

Each morning is saved before it is measured (ledger, journal, cadence's cache folder) and put
back before each repeat (the day's drafts folder removed), so every repeat starts from the
same morning; the last repeat's `run` carries the book to the next morning. Before the week
the book is settled by replaying Friday 2026-11-20's `cadence run` (untimed), as cron did.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import generate  # noqa: E402  (benchmarks/generate.py: uses cadence's command line only)

PY = sys.executable
BIN = os.path.dirname(PY)
CADENCE = os.path.join(BIN, "cadence")
MAILMERGE = os.path.join(BIN, "mailmerge")

FRIDAY = generate.FRIDAY  # the last cron run before the week
WEEK = [generate.MONDAY + timedelta(days=i) for i in range(5)]
WEDNESDAY = WEEK[2]
SCENES = ("startup", "draft", "week", "cold", "nocache", "journal", "million")
DEFAULT_SCENES = ("startup", "draft", "week", "cold", "nocache", "journal")
EDITED_PLAYBOOK = "new-lead"  # the cold morning's edit: the playbook most contacts follow
DRAFT_CONTACTS = 5_000
JOURNAL_YEARS = 8

BARS = {"due": 1.5, "run": 3.0, "startup": 1.2, "memory": 2.0, "growth": 11.0}

HELLO = """\
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world"):
    print(f"hello {name}")


app()
"""

LEDGER_FLOOR = """\
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

BOOK_FLOOR = LEDGER_FLOOR + """\
with open(sys.argv[3], newline="", encoding="utf-8") as f:
    for row in csv.reader(f):
        pass
"""

# the disk's share of a draft: the day's draft files written again as cadence commits them
# (one file each, created new in a hidden folder, one sync, the folder renamed into place),
# timed alone; prints the seconds and the number of files
DISK_FLOOR = """\
import os, sys, time
source, scratch = sys.argv[1], sys.argv[2]
files = []
for entry in sorted(os.scandir(source), key=lambda e: e.name):
    if entry.is_file(follow_symlinks=False):
        with open(entry.path, "rb") as handle:
            files.append((entry.name, handle.read()))
hidden = os.path.join(os.path.dirname(scratch), "." + os.path.basename(scratch) + ".tmp")
start = time.perf_counter()
os.mkdir(hidden)
for name, data in files:
    fd = os.open(os.path.join(hidden, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    os.write(fd, data)
    os.close(fd)
os.sync()
os.rename(hidden, scratch)
print(time.perf_counter() - start, len(files))
"""

MAILMERGE_CONF = """\
[smtp_server]
host = localhost
port = 25
security = Never
username = None
"""


def log(message: str) -> None:
    """Progress, on stderr (stdout holds the table or the JSON)."""
    print(message, file=sys.stderr, flush=True)


def median(values):
    return statistics.median(values) if values else float("nan")


# --- processes ----------------------------------------------------------------------------

SPAWNER = """\
import json, os, sys, time
for line in sys.stdin:
    job = json.loads(line)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, job["stdout"], flags, 0o600),
               (os.POSIX_SPAWN_OPEN, 2, job["stderr"], flags, 0o600)]
    start = time.perf_counter()
    pid = os.posix_spawn(job["cmd"][0], job["cmd"], job["env"], file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "rss_kib": usage.ru_maxrss,
                      "code": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class Process:
    """Runs measured commands: a fresh process each, timed, its peak RSS from wait4.

    The measured processes are started by a small helper process (SPAWNER, posix_spawn): a
    child's max RSS counts the memory of the process that started it, so a benchmark that
    holds a book's worth of data would otherwise lend it to every process it measures."""

    def __init__(self, work: str):
        self.work = work
        self.base_env = dict(os.environ)
        for name in ("PYTHONDONTWRITEBYTECODE", "CADENCE_NO_CACHE", "CADENCE_TODAY",
                     "CADENCE_CACHE_DIR"):
            self.base_env.pop(name, None)
        self.stderr = os.path.join(work, "measured.stderr")
        self.helper = subprocess.Popen([PY, "-I", "-S", "-c", SPAWNER], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, env={})

    def close(self) -> None:
        self.helper.stdin.close()
        self.helper.wait()

    def env(self, cache: str | None) -> dict:
        """The environment of a measured process: cadence's cache in `cache`, or off (None)."""
        env = dict(self.base_env)
        if cache is None:
            env["CADENCE_NO_CACHE"] = "1"
        else:
            env["CADENCE_CACHE_DIR"] = cache
        return env

    def time(self, cmd: list, env: dict | None = None, stdout: str = os.devnull) -> tuple:
        """(seconds, peak RSS in MiB) of one run of `cmd`; stops the benchmark on failure."""
        job = {"cmd": [str(c) for c in cmd], "env": env or self.base_env, "stdout": stdout,
               "stderr": self.stderr}
        self.helper.stdin.write(json.dumps(job) + "\n")
        self.helper.stdin.flush()
        done = json.loads(self.helper.stdout.readline())
        if done["code"] != 0:
            with open(self.stderr, encoding="utf-8", errors="replace") as handle:
                raise SystemExit(f"{' '.join(job['cmd'])} failed ({done['code']}):\n"
                                 f"{handle.read()}")
        return done["seconds"], done["rss_kib"] / 1024

    def run(self, cmd: list, env: dict | None = None) -> str:
        """Run `cmd` untimed; its stdout."""
        done = subprocess.run(cmd, env=env or self.base_env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n"
                             f"{done.stderr}")
        return done.stdout


# --- books, mornings ------------------------------------------------------------------------

class Scene:
    """A working copy of a generated book at a fixed path (cadence's cache knows a book by its
    path), with its own cache folder and its saved mornings."""

    def __init__(self, bench: "Bench", name: str, pristine: str):
        self.bench = bench
        self.folder = os.path.join(bench.work, "scenes", name)
        self.book = os.path.join(self.folder, "book")
        self.cache = os.path.join(self.folder, "cache")
        bench.discard(self.folder)
        os.makedirs(self.folder)
        shutil.copytree(pristine, self.book)
        self.contacts = count_rows(os.path.join(self.book, "contacts.csv"))
        self.ledger = os.path.join(self.book, "contacts.csv")
        self.journal = os.path.join(self.book, "history.csv")

    def cadence(self, *args) -> list:
        return [CADENCE, "-C", self.book, *args]

    def env(self, cached: bool = True) -> dict:
        return self.bench.proc.env(self.cache if cached else None)

    def play(self, day: date) -> int:
        """cron's `cadence run` on `day`, untimed; how many drafts it wrote."""
        self.bench.proc.run(self.cadence("run", "--today", day.isoformat(), "--yes", "--quiet"),
                            self.env())
        drafts = count_drafts(self.book, day)
        self.bench.discard(os.path.join(self.book, "drafts", day.isoformat()))
        return drafts

    def settle(self) -> int:
        """Replay Friday's cron run (it leaves cadence's cache as cron's would); drafts made."""
        return self.play(FRIDAY)

    def save(self, day: date) -> None:
        """Keep the book's morning of `day`: ledger, journal and cadence's cache folder."""
        saved = os.path.join(self.folder, "saved", day.isoformat())
        self.bench.discard(saved)
        os.makedirs(saved)
        shutil.copy2(self.ledger, os.path.join(saved, "contacts.csv"))
        shutil.copy2(self.journal, os.path.join(saved, "history.csv"))
        if os.path.isdir(self.cache):
            shutil.copytree(self.cache, os.path.join(saved, "cache"))

    def has(self, day: date) -> bool:
        return os.path.isdir(os.path.join(self.folder, "saved", day.isoformat()))

    def restore(self, day: date) -> None:
        """Put the morning of `day` back: ledger, journal, cache, the bundled playbooks; no
        drafts folder for the day. The copies are flushed to disk before anything is timed."""
        saved = os.path.join(self.folder, "saved", day.isoformat())
        self.bench.discard(os.path.join(self.book, "drafts", day.isoformat()))
        shutil.copy2(os.path.join(saved, "contacts.csv"), self.ledger)
        shutil.copy2(os.path.join(saved, "history.csv"), self.journal)
        self.bench.discard(self.cache)
        if os.path.isdir(os.path.join(saved, "cache")):
            shutil.copytree(os.path.join(saved, "cache"), self.cache)
        for name in os.listdir(os.path.join(ROOT, "playbooks")):
            shutil.copyfile(os.path.join(ROOT, "playbooks", name),
                            os.path.join(self.book, "playbooks", name))
        os.sync()

    def reach(self, day: date) -> None:
        """Bring the settled book to the morning of `day` of the week, playing the mornings
        before it untimed, and save that morning."""
        for before in WEEK:
            if before >= day:
                break
            self.play(before)
        self.save(day)

    def edit_playbook(self) -> None:
        """The cold morning's edit: a comment line added to one playbook file."""
        with open(os.path.join(self.book, "playbooks", EDITED_PLAYBOOK + ".yaml"), "a",
                  encoding="utf-8") as handle:
            handle.write("# edited: a comment, nothing else\n")
        os.sync()


def count_rows(path: str) -> int:
    """Data rows of a CSV file (its lines less the header; no cell of ours breaks a line)."""
    with open(path, "rb") as handle:
        return sum(1 for _ in handle) - 1


def count_drafts(book: str, day: date) -> int:
    """Drafts a run wrote on `day`: the files of its folder but the day's overview."""
    folder = os.path.join(book, "drafts", day.isoformat())
    if not os.path.isdir(folder):
        return 0
    return sum(1 for name in os.listdir(folder)
               if name not in ("index.md", "calls.ics") and not name.startswith("."))


# --- the benchmark ----------------------------------------------------------------------------

class Bench:
    """The work folder, the measuring, and the rows of the table."""

    def __init__(self, args):
        self.work = os.path.abspath(args.work)
        self.repeat = args.repeat
        self.keep = args.keep
        self.proc = Process(self.work)
        self.rows: list = []
        self.notes: list = []
        self.facts: dict = {}
        self.per_draft_mailmerge: float | None = None  # seconds, once the draft scene ran
        self.wednesday_due: dict = {}  # contacts -> median seconds of the Wednesday's due
        os.makedirs(self.work, exist_ok=True)
        self.scripts = {}
        for name, text in (("hello.py", HELLO), ("ledger_floor.py", LEDGER_FLOOR),
                           ("book_floor.py", BOOK_FLOOR), ("disk_floor.py", DISK_FLOOR),
                           ("mailmerge.conf", MAILMERGE_CONF)):
            path = os.path.join(self.work, name)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.scripts[name] = path
        self.floor_out = os.path.join(self.work, "floor-out.csv")

    # - the work folder -

    def discard(self, path: str) -> None:
        """Move `path` out of the way, to be deleted untimed (deleting thousands of drafts right
        before a timed run would weigh on the run's own writing)."""
        if os.path.lexists(path):
            trash = os.path.join(self.work, "trash")
            os.makedirs(trash, exist_ok=True)
            os.rename(path, os.path.join(tempfile.mkdtemp(dir=trash), "x"))

    def empty_trash(self) -> None:
        shutil.rmtree(os.path.join(self.work, "trash"), ignore_errors=True)

    def book(self, contacts: int, past_years: int = 0) -> str:
        """A generated, settled book (benchmarks/generate.py, seed 1), made once and reused
        while the generator, the playbooks and the parameters are the same."""
        stamp = {"contacts": contacts, "past_years": past_years, "seed": 1,
                 "generator": file_digest(os.path.join(HERE, "generate.py")),
                 "playbooks": generate.playbook_digest({})}
        out = os.path.join(self.work, "books", f"n{contacts}-y{past_years}")
        marker = os.path.join(out, ".generated.json")
        if os.path.exists(marker):
            with open(marker, encoding="utf-8") as handle:
                found = json.load(handle)
            if found.get("stamp") == stamp:
                self.facts.setdefault("settle", {})[os.path.basename(out)] = found["settle"]
                return out
        log(f"generating {contacts} contacts" + (f" with {past_years} more years of journal"
                                                 if past_years else "") + " ...")
        report = generate.generate(out, contacts, seed=1, past_years=past_years,
                                   work=os.path.join(self.work, "prototypes"))
        with open(marker, "w", encoding="utf-8") as handle:
            json.dump({"stamp": stamp, "settle": report}, handle)
        self.facts.setdefault("settle", {})[os.path.basename(out)] = report
        return out

    def scene(self, name: str, contacts: int, past_years: int = 0) -> Scene:
        """A working copy of the book of `contacts`, settled by Friday's replayed run."""
        scene = Scene(self, name, self.book(contacts, past_years))
        drafted = scene.settle()
        if drafted:
            self.notes.append(f"{name}: Friday's replayed run drafted {drafted} on a settled "
                              f"book (expected none)")
        return scene

    # - measuring -

    def pair(self, scene: Scene, args: list, cached: bool = True) -> dict:
        """The floors on the book as it stands, then the cadence command: one pair."""
        floor, floor_rss = self.proc.time([PY, self.scripts["ledger_floor.py"], scene.ledger,
                                           self.floor_out])
        book, _ = self.proc.time([PY, self.scripts["book_floor.py"], scene.ledger,
                                  self.floor_out, scene.journal])
        seconds, rss = self.proc.time(scene.cadence(*args), scene.env(cached))
        return {"cadence": seconds, "floor": floor, "book_floor": book, "rss": rss,
                "floor_rss": floor_rss}

    def add(self, scene: str, contacts: int, pairs: list, kind: str | None, drafts=None,
            label: str = "") -> dict:
        """A row of the table from the pairs of one command; `kind` picks its bar (due, run,
        or None: no bar)."""
        ratios = [p["cadence"] / p["floor"] for p in pairs]
        book_ratios = [p["cadence"] / p["book_floor"] for p in pairs]
        floor = median([p["floor"] for p in pairs])
        rss, floor_rss = max(p["rss"] for p in pairs), max(p["floor_rss"] for p in pairs)
        bar, bar_text = None, ""
        if kind == "due":
            bar, bar_text = BARS["due"], f"<= {BARS['due']}x"
        elif kind == "run":
            allowance = (drafts or 0) * (self.per_draft_mailmerge or 0.0) / floor
            bar = BARS["run"] + allowance
            bar_text = f"<= {bar:.2f}x" if self.per_draft_mailmerge is not None \
                else f"<= {BARS['run']}x (no mailmerge figure)"
        ok = ""
        if bar is not None:
            ok = "ok" if median(ratios) <= bar and rss <= BARS["memory"] * floor_rss else "OVER"
        row = {"scene": scene, "label": label, "contacts": contacts, "drafts": drafts,
               "cadence": median([p["cadence"] for p in pairs]), "floor": floor,
               "ratio_min": min(ratios), "ratio_median": median(ratios), "ratio_max": max(ratios),
               "book_floor": median([p["book_floor"] for p in pairs]),
               "book_ratio": median(book_ratios), "bar": bar, "bar_text": bar_text,
               "rss": rss, "floor_rss": floor_rss,
               "memory_bar": BARS["memory"] if bar is not None else None, "ok": ok,
               "repeats": len(pairs)}
        self.rows.append(row)
        return row

    # - scenes -

    def startup(self) -> None:
        """`cadence due` on 15 contacts against a Typer hello world, in turns."""
        scene = self.scene("startup", 15)
        hello = [PY, self.scripts["hello.py"]]
        due = scene.cadence("due", "--today", WEEK[0].isoformat())
        turns = max(21, self.repeat)
        log(f"startup: {turns} turns")
        for _ in range(3):  # warm the file cache and the bytecode
            self.proc.time(hello)
            self.proc.time(due, scene.env())
        pairs = []
        for _ in range(turns):
            floor, floor_rss = self.proc.time(hello)
            seconds, rss = self.proc.time(due, scene.env())
            pairs.append({"cadence": seconds, "floor": floor, "book_floor": floor, "rss": rss,
                          "floor_rss": floor_rss})
        row = self.add("startup", 15, pairs, None, label="start-up: due vs Typer hello")
        row["bar"], row["bar_text"] = BARS["startup"], f"<= {BARS['startup']}x"
        row["book_ratio"] = row["book_floor"] = None
        row["memory_bar"] = BARS["memory"]
        row["ok"] = "ok" if row["ratio_median"] <= BARS["startup"] \
            and row["rss"] <= BARS["memory"] * row["floor_rss"] else "OVER"

    def draft(self) -> None:
        """One draft's cost, cadence against mailmerge, on the same 5,000 emails."""
        book = os.path.join(self.work, "books", f"emails-{DRAFT_CONTACTS}")
        generate.email_book(book, DRAFT_CONTACTS, generate.MONDAY)
        scene = Scene(self, "draft", book)
        monday, tuesday = WEEK[0], WEEK[1]
        scene.save(monday)
        database = os.path.join(self.work, "mailmerge-5000.csv")
        single = os.path.join(self.work, "mailmerge-1.csv")
        template = os.path.join(self.work, "mailmerge-template.txt")
        write_mailmerge_inputs(scene.ledger, database, single, template)
        mailmerge = [MAILMERGE, "--template", template, "--config",
                     self.scripts["mailmerge.conf"], "--dry-run", "--no-limit",
                     "--output-format", "raw", "--database"]
        rendered = self.proc.run(mailmerge + [database])
        messages = sum(1 for line in rendered.splitlines()
                       if line.startswith(">>> message ") and line[12:].strip().isdigit())
        self.facts["mailmerge_messages"] = messages
        if messages != DRAFT_CONTACTS:
            self.notes.append(f"mailmerge rendered {messages} messages, not {DRAFT_CONTACTS}")
        cadence_costs, mailmerge_costs, drafted, rss, mm_rss, disk = [], [], [], [], [], []
        for turn in range(self.repeat):
            log(f"draft: repeat {turn + 1}/{self.repeat}")
            # the Tuesday's drafts of the turn before go too: each turn's Tuesday run is the
            # day's first, as cron's is, not a run again over a day already drafted
            self.discard(os.path.join(scene.book, "drafts", tuesday.isoformat()))
            scene.restore(monday)
            base, _ = self.proc.time(scene.cadence("run", "--today", monday.isoformat(),
                                                   "--yes", "--quiet"), scene.env())
            if count_drafts(scene.book, monday):
                raise SystemExit("the draft book's Monday run drafted something")
            full, peak = self.proc.time(scene.cadence("run", "--today", tuesday.isoformat(),
                                                      "--yes", "--quiet"), scene.env())
            drafted.append(count_drafts(scene.book, tuesday))
            written = os.path.join(scene.book, "drafts", tuesday.isoformat())
            scratch = os.path.join(scene.book, "drafts", "disk-floor")
            self.discard(scratch)
            seconds, files = self.proc.run([PY, self.scripts["disk_floor.py"], written,
                                            scratch]).split()
            disk.append(float(seconds) / max(1, int(files)))
            self.discard(scratch)
            one, _ = self.proc.time(mailmerge + [single])
            many, mm_peak = self.proc.time(mailmerge + [database])
            cadence_costs.append((full - base) / DRAFT_CONTACTS)
            mailmerge_costs.append((many - one) / (DRAFT_CONTACTS - 1))
            rss.append(peak)
            mm_rss.append(mm_peak)
        if any(n != DRAFT_CONTACTS for n in drafted):
            self.notes.append(f"the draft book's Tuesday run drafted {drafted}, "
                              f"not {DRAFT_CONTACTS}")
        self.per_draft_mailmerge = median(mailmerge_costs)
        self.facts["draft_disk_us"] = [round(d * 1e6) for d in disk]
        self.notes.append(
            "draft: writing the Tuesday's draft files alone, as cadence commits them, took "
            f"{median(disk) * 1e6:.0f} us a file (median; {min(disk) * 1e6:.0f} to "
            f"{max(disk) * 1e6:.0f}): part of cadence's cost a draft that mailmerge's dry run "
            "does not have")
        ratios = [c / m for c, m in zip(cadence_costs, mailmerge_costs)]
        self.rows.append({
            "scene": "draft", "label": "per draft: run vs mailmerge", "contacts": DRAFT_CONTACTS,
            "drafts": int(median(drafted)), "cadence": median(cadence_costs),
            "floor": self.per_draft_mailmerge, "ratio_min": min(ratios),
            "ratio_median": median(ratios), "ratio_max": max(ratios), "book_floor": None,
            "book_ratio": None, "bar": 1.0, "bar_text": "< 1x", "rss": max(rss),
            "floor_rss": max(mm_rss), "memory_bar": None, "repeats": self.repeat,
            "ok": "ok" if median(ratios) < 1.0 else "OVER", "unit": "per draft"})

    def week(self, contacts: int) -> Scene:
        """Monday to Friday at `contacts`: due, run, due again, each morning."""
        scene = self.scene("week", contacts)
        for day in WEEK:
            scene.save(day)
            due, run, after, drafts = [], [], [], []
            for turn in range(self.repeat):
                log(f"week: {day:%a %m-%d}, repeat {turn + 1}/{self.repeat}")
                if turn:
                    scene.restore(day)
                due.append(self.pair(scene, ["due", "--today", day.isoformat()]))
                run.append(self.pair(scene, ["run", "--today", day.isoformat(), "--yes", "--quiet"]))
                drafts.append(count_drafts(scene.book, day))
                after.append(self.pair(scene, ["due", "--today", day.isoformat()]))
            name = f"{day:%a %m-%d}"
            row = self.add("week", contacts, due, "due", label=f"{name} due")
            if day == WEDNESDAY:
                self.wednesday_due[contacts] = row["cadence"]
            self.add("week", contacts, run, "run", drafts=max(drafts), label=f"{name} run")
            self.add("week", contacts, after, "due", label=f"{name} due after run")
            self.bench_share(day, max(drafts), contacts)
        return scene

    def bench_share(self, day: date, drafts: int, contacts: int) -> None:
        self.facts.setdefault("drafts_by_day", {})[day.isoformat()] = {
            "drafts": drafts, "share": round(drafts / contacts, 4)}

    def wednesday(self, contacts: int, week: Scene | None) -> Scene:
        """The week's book at the Wednesday morning (played untimed if the week did not run)."""
        if week is not None and week.has(WEDNESDAY):
            return week
        scene = self.scene("week", contacts)
        log(f"playing Monday and Tuesday untimed at {contacts} contacts ...")
        scene.reach(WEDNESDAY)
        return scene

    def cold(self, scene: Scene) -> None:
        """The Wednesday, first due and first run after a playbook edit."""
        due, run, drafts = [], [], []
        for turn in range(self.repeat):
            log(f"cold: repeat {turn + 1}/{self.repeat}")
            scene.restore(WEDNESDAY)
            scene.edit_playbook()
            due.append(self.pair(scene, ["due", "--today", WEDNESDAY.isoformat()]))
            scene.restore(WEDNESDAY)
            scene.edit_playbook()
            run.append(self.pair(scene, ["run", "--today", WEDNESDAY.isoformat(), "--yes", "--quiet"]))
            drafts.append(count_drafts(scene.book, WEDNESDAY))
        self.add("cold", scene.contacts, due, "due", label="Wed, playbook edited: due")
        self.add("cold", scene.contacts, run, "run", drafts=max(drafts),
                 label="Wed, playbook edited: run")
        scene.restore(WEDNESDAY)

    def nocache(self, scene: Scene) -> None:
        """The Wednesday with no cache at all (CADENCE_NO_CACHE=1); no bar."""
        due, run, drafts = [], [], []
        for turn in range(self.repeat):
            log(f"nocache: repeat {turn + 1}/{self.repeat}")
            scene.restore(WEDNESDAY)
            due.append(self.pair(scene, ["due", "--today", WEDNESDAY.isoformat()], cached=False))
            scene.restore(WEDNESDAY)
            run.append(self.pair(scene, ["run", "--today", WEDNESDAY.isoformat(), "--yes", "--quiet"],
                                 cached=False))
            drafts.append(count_drafts(scene.book, WEDNESDAY))
        self.add("nocache", scene.contacts, due, None, label="  Wed, no cache: due")
        self.add("nocache", scene.contacts, run, None, drafts=max(drafts),
                 label="  Wed, no cache: run")
        scene.restore(WEDNESDAY)

    def journal(self, contacts: int) -> None:
        """The Monday's due with 8 more years of journal, beside the same book without them."""
        short = self.scene("journal-short", contacts)
        long = self.scene("journal-long", contacts, JOURNAL_YEARS)
        rows_short, rows_long = count_rows(short.journal), count_rows(long.journal)
        short_pairs, long_pairs = [], []
        for turn in range(self.repeat):
            log(f"journal: repeat {turn + 1}/{self.repeat}")
            short_pairs.append(self.pair(short, ["due", "--today", WEEK[0].isoformat()]))
            long_pairs.append(self.pair(long, ["due", "--today", WEEK[0].isoformat()]))
        row = self.add("journal", contacts, long_pairs, None,
                       label=f"  Mon due, journal +{JOURNAL_YEARS}y ({rows_long / rows_short:.0f}x rows)")
        row["journal_rows"] = rows_long
        growth = median([l["cadence"] / s["cadence"] for l, s in zip(long_pairs, short_pairs)])
        row["vs_short_journal"] = growth
        self.notes.append(f"journal: {rows_long:,} rows against {rows_short:,}; `due` took "
                          f"{growth:.2f}x its time on the short journal (median of pairs)")
        for scene in (short, long):
            self.discard(scene.folder)

    def million(self, contacts: int) -> None:
        """The Wednesday's due and run at `contacts` (10x), and the growth of `due`."""
        scene = self.scene("million", contacts)
        log(f"million: playing Monday and Tuesday untimed at {contacts} contacts ...")
        scene.reach(WEDNESDAY)
        due, run, drafts = [], [], []
        for turn in range(self.repeat):
            log(f"million: repeat {turn + 1}/{self.repeat}")
            if turn:
                scene.restore(WEDNESDAY)
            due.append(self.pair(scene, ["due", "--today", WEDNESDAY.isoformat()]))
            run.append(self.pair(scene, ["run", "--today", WEDNESDAY.isoformat(), "--yes", "--quiet"]))
            drafts.append(count_drafts(scene.book, WEDNESDAY))
        big = self.add("million", contacts, due, "due", label="Wed due")
        self.add("million", contacts, run, "run", drafts=max(drafts), label="Wed run")
        base_n = contacts // 10
        if base_n not in self.wednesday_due:
            base = self.wednesday(base_n, None)
            pairs = []
            for turn in range(self.repeat):
                log(f"million: base Wednesday due {turn + 1}/{self.repeat}")
                pairs.append(self.pair(base, ["due", "--today", WEDNESDAY.isoformat()]))
            self.wednesday_due[base_n] = median([p["cadence"] for p in pairs])
        growth = big["cadence"] / self.wednesday_due[base_n]
        self.rows.append({
            "scene": "million", "label": "growth: Wed due x10 contacts", "contacts": contacts,
            "drafts": None, "cadence": big["cadence"], "floor": self.wednesday_due[base_n],
            "ratio_min": growth, "ratio_median": growth, "ratio_max": growth,
            "book_floor": None, "book_ratio": None, "bar": BARS["growth"],
            "bar_text": f"<= {BARS['growth']:.0f}x", "rss": None, "floor_rss": None,
            "memory_bar": None, "ok": "ok" if growth <= BARS["growth"] else "OVER",
            "repeats": self.repeat, "unit": f"vs due at {base_n}"})
        self.discard(scene.folder)


def file_digest(path: str) -> str:
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:16]


def write_mailmerge_inputs(ledger: str, database: str, single: str, template: str) -> None:
    """mailmerge's database (the draft book's ledger, its 5,000 rows; and its first row
    alone) and its template: the bundled new-lead/thanks email, the same text and Jinja, with
    the ledger's columns as mailmerge's variables and the sender written in."""
    shutil.copyfile(ledger, database)
    with open(ledger, encoding="utf-8", newline="") as handle:
        lines = [handle.readline(), handle.readline()]
    with open(single, "w", encoding="utf-8", newline="") as handle:
        handle.writelines(lines)
    folder = os.path.join(ROOT, "templates")
    with open(os.path.join(folder, "new-lead", "thanks.email.j2"), encoding="utf-8") as handle:
        subject = handle.readline().strip()
    with open(os.path.join(folder, "new-lead", "thanks.j2"), encoding="utf-8") as handle:
        body = handle.read()
    with open(os.path.join(folder, "_signature.j2"), encoding="utf-8") as handle:
        signature = handle.read()
    sender = generate.SENDER
    for key, value in sender.items():
        signature = signature.replace("{{ sender.%s }}" % key, value)
    body = body.replace('{% include "_signature.j2" %}', signature).replace("contact.", "")
    with open(template, "w", encoding="utf-8") as handle:
        handle.write(f'TO: "{{{{ name }}}}" <{{{{ email }}}}>\n{subject.replace("Subject:", "SUBJECT:")}\n'
                     f'FROM: {sender["name"]} <{sender["email"]}>\n\n{body}')


# --- the table ---------------------------------------------------------------------------------

def seconds_text(value) -> str:
    if value is None:
        return ""
    if value < 0.01:
        return f"{value * 1e6:.0f}us"
    return f"{value:.2f}s"


def table(rows: list) -> str:
    """The rows as aligned text."""
    header = ("scene", "N", "drafts", "cadence", "floor", "ratio min/med/max", "book-floor",
              "bar", "peak RSS cadence/floor", "")
    lines = []
    for row in rows:
        ratios = f"{row['ratio_min']:.2f} / {row['ratio_median']:.2f} / {row['ratio_max']:.2f}x"
        if row["ratio_min"] == row["ratio_max"]:
            ratios = f"{row['ratio_median']:.2f}x"
        memory = ""
        if row.get("rss") is not None:
            memory = f"{row['rss']:.0f} / {row['floor_rss']:.0f} MiB"
        lines.append((row["label"], f"{row['contacts']:,}",
                      "" if row["drafts"] is None else f"{row['drafts']:,}",
                      seconds_text(row["cadence"]), seconds_text(row["floor"]), ratios,
                      "" if row.get("book_ratio") is None else f"{row['book_ratio']:.2f}x",
                      row["bar_text"], memory, row["ok"]))
    widths = [max(len(str(r[i])) for r in lines + [header]) for i in range(len(header))]
    right = {1, 2, 3, 4}
    out = []
    for line in [header] + lines:
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w)
                 for i, (c, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def machine() -> dict:
    """What the numbers were taken on."""
    info = {"python": platform.python_version(), "cores": os.cpu_count(),
            "platform": platform.platform(), "cpu": "", "memory_gib": None}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in handle
                                if line.startswith("model name")), "")
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = int(handle.readline().split()[1])
            info["memory_gib"] = round(kib / 2**20, 1)
    except OSError:
        pass
    for name, cmd in (("cadence", [CADENCE, "--version"]), ("mailmerge", [MAILMERGE, "--version"])):
        try:
            info[name] = subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            info[name] = "not installed"
    return info


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("\n")[4:]))
    parser.add_argument("--contacts", type=int, default=100_000, metavar="N",
                        help="contacts of the week's book (100000); the bars are set for it")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="pairs measured per command (3); ratios are min/median/max of them")
    parser.add_argument("--million", action="store_true",
                        help="also the million scene: 10 x --contacts (slow: tens of minutes)")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "cadence-bench"),
                        metavar="DIR",
                        help="work folder: generated books (reused), scenes, caches "
                             "(default: %(default)s)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scenes (books as the week left them, their drafts, "
                             "saved mornings, caches) in the work folder for inspection; "
                             "generated books and prototypes are kept either way")
    parser.add_argument("--json", action="store_true",
                        help="print the numbers as JSON instead of the table")
    parser.add_argument("--only", default="", metavar="SCENES",
                        help="comma-separated scenes to run, of: " + ", ".join(SCENES) +
                             " (default: all but million; million also with --million)")
    args = parser.parse_args()
    scenes = [s.strip() for s in args.only.split(",") if s.strip()] or list(DEFAULT_SCENES)
    unknown = [s for s in scenes if s not in SCENES]
    if unknown:
        parser.error(f"unknown scene(s): {', '.join(unknown)}; choose from {', '.join(SCENES)}")
    if args.million and "million" not in scenes:
        scenes.append("million")
    for tool in (CADENCE, MAILMERGE if "draft" in scenes else CADENCE):
        if not os.path.exists(tool):
            parser.error(f"{tool} is not installed: pip install -c requirements.lock "
                         f"-e '.[test,bench]'")

    bench = Bench(args)
    started = time.perf_counter()
    info = machine()
    log(f"cadence benchmark: {', '.join(scenes)}; {args.contacts} contacts, "
        f"--repeat {args.repeat}, work folder {bench.work}")
    week = None
    if "startup" in scenes:
        bench.startup()
    if "draft" in scenes:
        bench.draft()
    if "week" in scenes:
        week = bench.week(args.contacts)
    if "cold" in scenes or "nocache" in scenes:
        wednesday = bench.wednesday(args.contacts, week)
        if "cold" in scenes:
            bench.cold(wednesday)
        if "nocache" in scenes:
            bench.nocache(wednesday)
    if "journal" in scenes:
        bench.journal(args.contacts)
    if "million" in scenes:
        bench.million(10 * args.contacts)
    bench.proc.close()
    if not args.keep:
        bench.discard(os.path.join(bench.work, "scenes"))
    bench.empty_trash()
    elapsed = time.perf_counter() - started

    result = {"machine": info, "contacts": args.contacts, "repeat": args.repeat,
              "scenes": scenes, "mailmerge_per_draft": bench.per_draft_mailmerge,
              "rows": bench.rows, "notes": bench.notes, "facts": bench.facts,
              "seconds": round(elapsed)}
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    print(f"cadence benchmark: {info['cadence']}, Python {info['python']}, {info['cores']} cores "
          f"({info['cpu']}), {info['memory_gib']} GiB, {info['platform']}")
    print(f"--contacts {args.contacts} --repeat {args.repeat}; ratios are cadence / ledger "
          f"floor of the same pair; bars on the median ratio and on peak RSS\n")
    print(table(bench.rows))
    print()
    if bench.per_draft_mailmerge is not None:
        print(f"mailmerge: {bench.per_draft_mailmerge * 1e6:.0f}us a draft "
              f"({bench.facts.get('mailmerge_messages')} messages rendered in a checked run); "
              f"a run's bar allows that much a draft above 3x the floor")
    shares = bench.facts.get("drafts_by_day", {})
    if shares:
        print("drafts by morning: " + ", ".join(
            f"{date.fromisoformat(d):%a} {v['drafts']:,} ({100 * v['share']:.1f}%)"
            for d, v in shares.items()))
    for name, report in bench.facts.get("settle", {}).items():
        if report:
            print(f"book {name}: generated, then Friday's replayed run drafted "
                  f"{report['drafted']} ({100 * report['drafted'] / max(report['contacts'], 1):.2f}%)"
                  f" and changed {report['rows_changed']} ledger rows")
    for note in bench.notes:
        print(note)
    verdicts = [row["ok"] for row in bench.rows if row["ok"]]
    print(f"\n{verdicts.count('ok')} of {len(verdicts)} bars met; {elapsed / 60:.1f} minutes")
    if args.contacts != 100_000:
        print("(the bars are set for 100,000 contacts: on a smaller book start-up weighs more "
              "than the ledger, and the ratios say little)")


if __name__ == "__main__":
    main()
