"""Generate a seeded, realistic book of N contacts, as a weekday cron `cadence run` left it.

    python benchmarks/generate.py OUT --contacts 100000 [--seed 1] [--past-years 0]
                                  [--work DIR] [--jobs 2] [--no-settle]

The book stands where a daily cron `cadence run` (weekdays only) would have left it at the end
of Friday 2026-11-20, the Friday before the benchmark's timed week (Monday 2026-11-23 to Friday
2026-11-27). It uses the repository's bundled playbooks and templates.

The contacts (names in Swedish, Russian, Ukrainian and English) started over the two years
before that Friday, on the playbooks new-lead, new-lead-sv, new-lead-ru, stay-in-touch and
customer (weights 6:2:1:2:1). About 1% follow no playbook, about 1% are enrolled but not started
(the next run starts them), some replied, were won, lost, paused or unsubscribed, about 10% have
a birthday, and about 2% have a call-back agreed for a day of the timed week (a third of them
at a time of day, like `2026-11-24T14:30`). Most can be reached by every channel; some are 50 or
over (the new-lead playbooks write to them on paper), some have no address or no phone, some
take email only.

How the past is played: this script never imports cadence's modules, only its command line.
For every playbook, reach profile and start date it asks `cadence plan ID --today STARTED
--days ... --json` about a one-contact book (in-process, through the Typer `app` that the
module of the `cadence` command offers): the touches of a contact that nobody answered, each
made on its day. Those dated before the timed week
become the contact's journal rows; the ledger's state cells follow from them (`touches`, the
latest touch's date and channel, the latest step, and `next_due`, the first planned touch on or
after the timed Monday). These prototypes are kept in the work folder under a digest of the
playbooks' bytes and of this script's choices, so they are computed once.

What the prototypes do not play (a birthday greeting in the last days, a contact that replied
last week) is settled the way cron would have: the script replays Friday's `cadence run` on the
new book (with CADENCE_NO_CACHE=1), prints how many drafts that replay made (a small share: the
book was nearly where cron left it), and removes that day's drafts folder. That replay also
enrols the contacts that were not started, as a Friday run would; their first touch falls on
the Monday.

`--past-years Y` adds Y earlier years of journal rows: each contact went through its playbook
before, a campaign a year, which makes the journal about six times longer per two years added,
to show how the journal's length weighs.

The ledger is written as it goes, the journal through monthly buckets on disk, so a million
contacts fit in memory.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import csv
import hashlib
import io
import json
import multiprocessing
import os
import pickle
import random
import shutil
import subprocess
import sys
import time
import unicodedata
from datetime import date, timedelta

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable
_SCRIPT = os.path.join(os.path.dirname(PY), "cadence")
CADENCE = [_SCRIPT] if os.path.exists(_SCRIPT) else [PY, "-m", "cadence"]

FRIDAY = date(2026, 11, 20)  # the last cron run before the timed week
MONDAY = date(2026, 11, 23)  # the first morning of the timed week
SPAN = 730  # the contacts started over the two years up to FRIDAY
PROTOTYPES_VERSION = 1  # part of the prototypes' cache key: bump it when _plan changes

COLUMNS = ["id", "name", "email", "phone", "address", "company", "age", "playbook", "started",
           "status", "paused_until", "channels", "optout", "callback", "birthday", "last_reply",
           "touches", "last_touch", "last_channel", "last_step", "next_due"]
JOURNAL = ["date", "contact", "event", "playbook", "step", "channel", "template", "note"]

# playbook -> weight; the languages its contacts speak
PLAYBOOKS = {"new-lead": 6, "new-lead-sv": 2, "new-lead-ru": 1, "stay-in-touch": 2, "customer": 1}
LANGUAGES = {"new-lead": ["en", "sv", "ru", "uk"], "new-lead-sv": ["sv"],
             "new-lead-ru": ["ru", "uk"], "stay-in-touch": ["en", "sv", "ru", "uk"],
             "customer": ["en", "sv", "ru", "uk"]}

# Reach profiles: what a contact's cells say about how it may be reached, as far as that
# shapes its plan. name -> (weight, cells of the prototype contact, start-date step).
# The rarer profiles get prototypes for every third start date, to keep them few.
PROFILES = {
    "full": (70, {}, 1),
    "senior": (15, {"age": "67"}, 1),  # the new-lead playbooks' `if` rule: scheduled touches on paper
    "no-address": (8, {"address": ""}, 3),
    "no-phone": (4, {"phone": ""}, 3),
    "email-only": (3, {"channels": "email"}, 3),
}

NAMES = {
    "sv": {
        "m": ["Erik", "Lars", "Anders", "Johan", "Karl", "Per", "Nils", "Gustav", "Oskar", "Mikael"],
        "f": ["Anna", "Maria", "Karin", "Eva", "Ingrid", "Maja", "Elsa", "Astrid", "Sofia", "Linnéa"],
        "last": ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
                 "Persson", "Lindqvist", "Holmberg", "Ek", "Sjöberg", "Åkesson", "Björk"],
    },
    "ru": {
        "m": ["Дмитрий", "Алексей", "Сергей", "Иван", "Михаил", "Андрей", "Николай", "Павел"],
        "f": ["Ольга", "Наталья", "Елена", "Татьяна", "Анна", "Мария", "Ирина", "Светлана"],
        "last": ["Смирнов", "Иванов", "Кузнецов", "Попов", "Волков", "Соколов", "Лебедев",
                 "Морозов", "Новиков", "Фёдоров"],  # + "а" for women
    },
    "uk": {
        "m": ["Олександр", "Андрій", "Тарас", "Богдан", "Юрій", "Василь", "Остап"],
        "f": ["Ірина", "Оксана", "Наталія", "Олена", "Марія", "Софія", "Галина"],
        "last": ["Коваленко", "Шевченко", "Бондаренко", "Ткаченко", "Кравченко", "Мельник",
                 "Павленко", "Ковальчук", "Бойко", "Лисенко"],
    },
    "en": {
        "m": ["James", "John", "Peter", "Tom", "David", "Michael", "William"],
        "f": ["Sarah", "Margaret", "Emma", "Claire", "Emily", "Olivia", "Helen"],
        "last": ["Smith", "Whitfield", "Mitchell", "Brown", "Taylor", "Wilson", "Davies",
                 "O'Brien", "Clarke", "Hughes"],
    },
}
STREETS = {
    "sv": (["Storgatan", "Drottninggatan", "Kungsgatan", "Vasagatan", "Sveavägen"],
           ["111 51 Stockholm", "411 06 Göteborg", "211 20 Malmö", "753 10 Uppsala"]),
    "ru": (["ул. Ленина", "Тверская ул.", "Садовая ул.", "пр. Мира"],
           ["Москва, 125009", "Санкт-Петербург, 191186", "Казань, 420111"]),
    "uk": (["вул. Хрещатик", "вул. Шевченка", "вул. Франка"],
           ["Київ, 01001", "Львів, 79000", "Одеса, 65000"]),
    "en": (["High Street", "Church Road", "Station Road", "Mill Lane"],
           ["London SW1A 1AA", "Manchester M1 1AE", "Leeds LS1 4DY"]),
}
COMPANY = {"sv": "{} AB", "ru": "ООО «{}»", "uk": "ТОВ «{}»", "en": "{} Ltd"}
TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n",
                     "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y",
                     "", "e", "yu", "ya", "i", "yi", "ye", "g"]))


# --- prototypes: what `cadence plan` says a contact nobody answered went through ------------

def playbook_digest(profiles: dict) -> str:
    """A digest of the bundled playbooks' bytes and of what shapes the prototypes here."""
    digest = hashlib.sha256()
    folder = os.path.join(ROOT, "playbooks")
    for name in sorted(os.listdir(folder)):
        digest.update(name.encode() + b"\0")
        with open(os.path.join(folder, name), "rb") as handle:
            digest.update(handle.read() + b"\0")
    digest.update(json.dumps([PROTOTYPES_VERSION, sorted(PLAYBOOKS), profiles,
                              MONDAY.isoformat(), SPAN],
                             sort_keys=True).encode())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def playbook_facts(playbook: str) -> dict:
    """What the generator needs to know of a bundled playbook, read from its YAML: whether an
    `if` rule reads the contact's cells, its birthday rule's template ("" without one), and
    whether a reply stops it (`reply: stop`, the default) or it goes on."""
    with open(os.path.join(ROOT, "playbooks", playbook + ".yaml"), encoding="utf-8") as handle:
        rules = [r for r in (yaml.safe_load(handle).get("rules") or ()) if isinstance(r, dict)]
    birthday = next((r.get("template", "birthday") for r in rules if "birthday" in r), "")
    reply = next((str(r["reply"]) for r in rules if "reply" in r), "stop")
    return {"reads_cells": any("if" in r for r in rules), "birthday_template": birthday,
            "stops_on_reply": reply == "stop"}


@functools.lru_cache(maxsize=None)
def start_dates(step: int) -> tuple:
    """The start dates a profile has prototypes for: every `step`-th day of the span."""
    return tuple(FRIDAY - timedelta(days=age) for age in range(0, SPAN, step))


def prototype_tasks() -> list:
    """(playbook, profile, started) for every prototype to ask `cadence plan` about."""
    tasks = []
    for playbook in PLAYBOOKS:
        reads_cells = playbook_facts(playbook)["reads_cells"]
        for profile, (_, _, step) in PROFILES.items():
            if profile == "senior" and not reads_cells:
                continue  # the same plan as "full": nothing in the playbook reads the age
            tasks.extend((playbook, profile, started) for started in start_dates(step))
    return tasks


_WORKER: dict = {}  # per worker process: the click command and its one-contact book


def cadence_app():
    """cadence's Typer app with every command on it, as the module of the `cadence` command
    offers it for tests and embedding (`app`: cadence.cli or cadence.main, by version)."""
    from importlib import import_module, metadata

    modules = [entry.value.split(":")[0] for entry in metadata.entry_points(group="console_scripts")
               if entry.name == "cadence"]
    for name in modules + ["cadence.main", "cadence.cli"]:
        try:
            return import_module(name).app
        except (ImportError, AttributeError):
            continue
    raise SystemExit("cadence's Typer app not found (is cadence installed in this Python?)")


def _worker_init(folder: str) -> None:
    """Set up a worker: a one-contact book of its own, and cadence's command, built once.

    A failure is kept for `_plan` to raise: a pool whose initializer fails starts new
    workers for ever."""
    # cadence's cache (if it has one) spares re-reading the playbooks at every call; it lives
    # in the work folder and goes with it
    os.environ.pop("CADENCE_NO_CACHE", None)
    os.environ["CADENCE_CACHE_DIR"] = os.path.join(folder, f"cache-{os.getpid()}")
    os.environ.pop("CADENCE_TODAY", None)
    try:
        import typer

        book = os.path.join(folder, f"book-{os.getpid()}")
        make_book_skeleton(book)
        _WORKER.update(command=typer.main.get_command(cadence_app()), book=book)
    except BaseException as err:  # noqa: BLE001 - raised by _plan, in the parent
        _WORKER["error"] = f"{type(err).__name__}: {err}"


def _plan(task: tuple) -> tuple:
    """`cadence plan` of one prototype contact, from its start date to past the timed week.

    Runs the command in-process (typer's `get_command` gives the click command once, so that
    a call costs the plan, not the building of the command line)."""
    if "error" in _WORKER:
        raise RuntimeError(f"setting up `cadence plan` failed: {_WORKER['error']}")
    playbook, profile, started = task
    book = _WORKER["book"]
    row = dict.fromkeys(COLUMNS, "")
    row.update(id="p", name="Proto Type", email="p@example.com", phone="+46 70 000 00 00",
               address="Storgatan 1, 111 51 Stockholm", age="", playbook=playbook,
               started=started.isoformat())
    row.update(PROFILES[profile][1])
    with open(os.path.join(book, "contacts.csv"), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerow([row[c] for c in COLUMNS])
    days = (MONDAY - started).days + 70  # past the first touch due on or after MONDAY
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = _WORKER["command"].main(
            ["-C", book, "plan", "p", "--today", started.isoformat(), "--days", str(days),
             "--json"], prog_name="cadence", standalone_mode=False)
    if code not in (None, 0):
        raise RuntimeError(f"cadence plan failed ({code}) for {task}: {out.getvalue()}")
    touches = [(t["date"], t["step"], t["phase"], t["channel"], t["template"], t["reason"])
               for t in json.loads(out.getvalue())["touches"]]
    return task, touches


SENDER = {"name": "Eva Konsult", "email": "eva@konsult.example", "phone": "+46 70 111 22 33",
          "address": "Eva Konsult AB\nDrottninggatan 1\n111 51 Stockholm"}


def make_book_skeleton(book: str, sender: bool = True) -> None:
    """A book folder with the bundled playbooks and templates, a config, and an empty journal."""
    os.makedirs(book, exist_ok=True)
    for folder in ("playbooks", "templates"):
        target = os.path.join(book, folder)
        if os.path.exists(target):
            shutil.rmtree(target)
        shutil.copytree(os.path.join(ROOT, folder), target)
    with open(os.path.join(book, "cadence.yaml"), "w", encoding="utf-8") as handle:
        handle.write("timezone: Europe/Stockholm\n")
        if sender:
            handle.write(f'sender:\n  name: {SENDER["name"]}\n  email: {SENDER["email"]}\n'
                         f'  phone: "{SENDER["phone"]}"\n  address: |\n')
            handle.writelines(f"    {line}\n" for line in SENDER["address"].splitlines())
    with open(os.path.join(book, "history.csv"), "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(JOURNAL) + "\n")


def prototypes(work: str, jobs: int = 2, quiet: bool = False) -> dict:
    """{(playbook, profile, started): [planned touches]}, from the cache in `work` if there.

    Each touch is (date, step, phase, channel, template, reason), as `plan --json` gives it."""
    digest = playbook_digest({k: v[1:] for k, v in PROFILES.items()})
    path = os.path.join(work, f"prototypes-{digest}.pickle")
    if os.path.exists(path):
        with open(path, "rb") as handle:
            return pickle.load(handle)
    tasks = prototype_tasks()
    cadence_app()  # fails here, clearly, rather than in every worker
    folder = os.path.join(work, f"prototypes-{digest}.books")
    start = time.perf_counter()
    if not quiet:
        print(f"prototypes: asking `cadence plan` about {len(tasks)} contacts "
              f"({jobs} process{'es' if jobs > 1 else ''}; once for these playbooks)",
              file=sys.stderr)
    with multiprocessing.get_context("fork").Pool(jobs, _worker_init, (folder,)) as pool:
        found = dict(pool.imap_unordered(_plan, tasks, chunksize=32))
    shutil.rmtree(folder, ignore_errors=True)
    if not quiet:
        print(f"prototypes: {time.perf_counter() - start:.0f}s", file=sys.stderr)
    # the senior profile of a playbook no rule of which reads the cells is the full one
    for playbook in PLAYBOOKS:
        for started in start_dates(PROFILES["senior"][2]):
            found.setdefault((playbook, "senior", started), found[(playbook, "full", started)])
    os.makedirs(work, exist_ok=True)
    with open(path + ".tmp", "wb") as handle:
        pickle.dump(found, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".tmp", path)
    return found


# --- one contact ------------------------------------------------------------------------

def ascii_name(text: str) -> str:
    """A name as the local part of an address: Latin letters only."""
    text = "".join(TRANSLIT.get(ch, ch) for ch in text.lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text if ch.isalnum())


def person(i: int, language: str, rng: random.Random) -> dict:
    """Name, email, phone, address and company of contact number `i`, in `language`."""
    names = NAMES[language]
    female = rng.random() < 0.5
    first = rng.choice(names["f" if female else "m"])
    last = rng.choice(names["last"])
    if language == "ru" and female:
        last += "а"
    streets, cities = STREETS[language]
    street, number, city = rng.choice(streets), rng.randint(1, 120), rng.choice(cities)
    if language == "en":
        address = f"{number} {street}, {city}"
    elif language == "sv":
        address = f"{street} {number}, {city}"
    else:
        address = f"{street}, {number}, {city}"
    phone = {"sv": f"+46 70 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
             "ru": f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-"
                   f"{rng.randint(10, 99)}",
             "uk": f"+380 {rng.randint(50, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
             "en": f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}"}[language]
    domain = rng.choice(["example.com", "example.org", "example.net"])
    company = COMPANY[language].format(rng.choice(NAMES[language]["last"])) \
        if rng.random() < 0.7 else ""
    return {"name": f"{first} {last}", "email": f"{ascii_name(first)}.{ascii_name(last)}{i}@{domain}",
            "phone": phone, "address": address, "company": company}


def pick(rng: random.Random, weights: dict) -> str:
    """A key of `weights` ({key: weight or (weight, ...)}), drawn by weight."""
    keys = list(weights)
    values = [v[0] if isinstance(v, tuple) else v for v in weights.values()]
    return rng.choices(keys, values)[0]


def weekday_on_or_after(day: date) -> date:
    """The first Monday-to-Friday on or after `day` (a day cron runs)."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def touch_line(day: str, cid: str, playbook: str, touch: tuple, previous) -> tuple:
    """(date, journal line) of a planned touch, as `cadence run` journals it."""
    _, step, phase, channel, template, reason = touch
    note = ""
    if reason == "no_reply" and previous is not None:
        note = f"no reply since {previous[0]} ({previous[3]})"
    return day, f"{day},{cid},touch,{playbook},{step},{channel},{template},{note}\n"


class Contact:
    """The ledger row and journal rows of one generated contact."""

    def __init__(self, cid: str, cells: dict):
        self.cid = cid
        self.row = dict.fromkeys(COLUMNS, "")
        self.row.update(cells, id=cid)
        self.lines: list = []  # (date iso, journal line)

    def values(self) -> list:
        return [self.row[c] for c in COLUMNS]


def play_past(contact: Contact, touches: list, playbook: str, started: date, until: date,
              birthday_template_name: str, past_years: int) -> None:
    """Journal rows and state cells of a contact whose touches are `touches` (planned, as
    `plan` gave them), made until the day before `until`; plus its earlier campaigns."""
    cid, row = contact.cid, contact.row
    end = until.isoformat()
    made = [t for t in touches if t[0] < end]
    if started.weekday() < 5:  # enrolled by a cron run on that day (a weekend date was typed)
        contact.lines.append((started.isoformat(), f"{started.isoformat()},{cid},status,"
                                                  f"{playbook},,,,started\n"))
    previous = None
    for touch in made:
        contact.lines.append(touch_line(touch[0], cid, playbook, touch, previous))
        previous = touch
    count = len(made)
    if row["birthday"] and birthday_template_name:
        count += greet_birthdays(contact, made, playbook, started, until, birthday_template_name)
    if made:
        last = made[-1]
        row.update(touches=str(count), last_touch=last[0], last_channel=last[3])
        steps = [t for t in made if t[5] == "step"]
        row["last_step"] = steps[-1][1] if steps else ""
    elif count:
        row["touches"] = str(count)
    later = [t for t in touches if t[0] >= MONDAY.isoformat()]
    row["next_due"] = later[0][0] if later and until > FRIDAY else ""
    if row["next_due"] and row["birthday"] and birthday_template_name:
        greeting = next_birthday(row["birthday"], MONDAY).isoformat()
        row["next_due"] = min(row["next_due"], greeting)
    for year in range(1, past_years + 1):
        earlier_campaign(contact, touches, playbook, started, year)


def birthday_in(text: str, year: int) -> date:
    """A `MM-DD` or `YYYY-MM-DD` birthday in `year` (Feb 29 is Feb 28 in other years)."""
    month, day = int(text[-5:-3]), int(text[-2:])
    if month == 2 and day == 29 and year % 4:
        return date(year, 2, 28)
    return date(year, month, day)


def next_birthday(text: str, day: date) -> date:
    """The first weekday on which a greeting can go out for a birthday on or after `day`."""
    occurrence = birthday_in(text, day.year)
    if occurrence < day:
        occurrence = birthday_in(text, day.year + 1)
    return weekday_on_or_after(occurrence)


def greet_birthdays(contact: Contact, made: list, playbook: str, started: date, until: date,
                    template: str) -> int:
    """Journal the birthday greetings of past years that fell clear of the planned touches
    and before the latest one (where the engine puts a greeting next to a touch depends on its
    limits: those are left out; an unrecorded birthday that long ago is settled for the
    engine). Returns how many."""
    dates = [date.fromisoformat(t[0]) for t in made]
    greeted = 0
    for year in range(started.year, until.year + 1):
        occurrence = birthday_in(contact.row["birthday"], year)
        on = weekday_on_or_after(occurrence)
        if on <= started or on + timedelta(days=21) >= until or not dates or on >= dates[-1]:
            continue  # only greetings long settled, before the latest touch
        if any(-3 < (on - d).days < 7 for d in dates):
            continue  # next to a touch: where the limits put it is the engine's business
        contact.lines.append((on.isoformat(), f"{on.isoformat()},{contact.cid},touch,{playbook},"
                                              f"birthday,email,{template},birthday on "
                                              f"{occurrence.isoformat()}\n"))
        greeted += 1
    return greeted


def earlier_campaign(contact: Contact, touches: list, playbook: str, started: date,
                     years_back: int) -> None:
    """The contact's campaign `years_back` years (of 52 weeks) before this one: the same plan,
    moved back, cut where the next campaign begins."""
    shift = timedelta(days=364 * years_back)
    begin, end = started - shift, (started - shift + timedelta(days=364)).isoformat()
    cid = contact.cid
    contact.lines.append((begin.isoformat(), f"{begin.isoformat()},{cid},status,{playbook},,,,"
                                            f"started\n"))
    previous = None
    for touch in touches:
        day = (date.fromisoformat(touch[0]) - shift).isoformat()
        if day >= end:
            break
        moved = (day,) + touch[1:]
        contact.lines.append(touch_line(day, cid, playbook, moved, previous))
        previous = moved


def make_contact(i: int, rng: random.Random, protos: dict, past_years: int) -> Contact:
    """Contact number `i`: its cells, and its journal rows up to the timed week."""
    cid = f"c{i:07d}"
    playbook = pick(rng, PLAYBOOKS)
    language = rng.choice(LANGUAGES[playbook])
    contact = Contact(cid, person(i, language, rng))
    row = contact.row
    profile = pick(rng, PROFILES)
    row["age"] = str(rng.randint(50, 84)) if profile == "senior" else \
        (str(rng.randint(24, 49)) if rng.random() < 0.6 else "")
    row.update({k: v for k, v in PROFILES[profile][1].items() if k != "age"})
    row["playbook"] = playbook
    roll = rng.random()
    if roll < 0.01:
        row["playbook"] = ""  # in the ledger, following no playbook
        return contact
    if roll < 0.02:
        return contact  # enrolled, not started: the next run starts it
    if rng.random() < 0.10:
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        row["birthday"] = f"{month:02d}-{day:02d}" if rng.random() < 0.5 else \
            f"{rng.randint(1945, 2000)}-{month:02d}-{day:02d}"
    started = rng.choice(start_dates(PROFILES[profile][2]))
    row["started"] = started.isoformat()
    touches = protos[(playbook, profile, started)]
    status, until = "active", MONDAY
    roll = rng.random()
    if started < FRIDAY - timedelta(days=2):
        if roll < 0.03:
            status = "replied"
        elif roll < 0.05:
            status = "won"
        elif roll < 0.07:
            status = "lost"
        elif roll < 0.08:
            status = "paused"
        elif roll < 0.085:
            status = "unsubscribed"
    if status != "active":  # it happened on a day after the start, up to the Friday
        until = started + timedelta(days=rng.randint(2, (FRIDAY - started).days))
    facts = playbook_facts(playbook)
    if status == "replied" and not facts["stops_on_reply"]:
        status = "active"  # a reply that the playbook answers by going on
        reply_on = until
        until = MONDAY
    else:
        reply_on = until if status == "replied" else None
    play_past(contact, touches, playbook, started, until, facts["birthday_template"],
              past_years)
    if reply_on is not None:
        row["last_reply"] = reply_on.isoformat()
        action = "stop" if status == "replied" else "continue"
        contact.lines.append((reply_on.isoformat(), f"{reply_on.isoformat()},{cid},reply,"
                                                    f"{playbook},,,,reply: {action}\n"))
    if status in ("won", "lost", "paused", "unsubscribed"):
        on = weekday_on_or_after(until)  # typed into the ledger; the next run journaled it
        on = min(on, FRIDAY)
        note = status
        if status == "paused":
            row["paused_until"] = (MONDAY + timedelta(days=rng.randint(1, 40))).isoformat()
            note = f"paused until {row['paused_until']}"
        contact.lines.append((on.isoformat(), f"{on.isoformat()},{cid},status,{playbook},,,,"
                                              f"{note} (set in the ledger)\n"))
    row["status"] = "" if status == "active" else status
    if status != "unsubscribed" and rng.random() < 0.02:
        agree_callback(contact, rng, started)
    return contact


def agree_callback(contact: Contact, rng: random.Random, started: date) -> None:
    """A call-back agreed for a day of the timed week, typed into the ledger last week and
    journaled by the next run."""
    row = contact.row
    day = MONDAY + timedelta(days=rng.randint(0, 4))
    text = day.isoformat()
    if rng.random() < 1 / 3:
        text += f"T{rng.randint(9, 16):02d}:{rng.choice(['00', '15', '30', '45']):s}"
    row["callback"] = text
    typed = max(started, FRIDAY - timedelta(days=rng.randint(0, 4)))
    typed = min(weekday_on_or_after(typed), FRIDAY)
    contact.lines.append((typed.isoformat(), f"{typed.isoformat()},{contact.cid},note,"
                                             f"{row['playbook']},,,,callback {text} "
                                             f"(set in the ledger)\n"))
    if row["next_due"] and day.isoformat() < row["next_due"]:
        row["next_due"] = day.isoformat()


# --- the book -------------------------------------------------------------------------------

class Buckets:
    """Journal lines sorted by date without holding them all: one file a month on disk."""

    def __init__(self, folder: str):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.pending: dict = {}
        self.count = 0
        self.rows = 0

    def add(self, day: str, line: str) -> None:
        self.pending.setdefault(day[:7], []).append(line)
        self.count += 1
        self.rows += 1
        if self.count >= 500_000:
            self.flush()

    def flush(self) -> None:
        for month, lines in self.pending.items():
            with open(os.path.join(self.folder, month), "a", encoding="utf-8") as handle:
                handle.writelines(lines)
        self.pending, self.count = {}, 0

    def write(self, out) -> None:
        """Append every line to `out`, by date (lines of one day in the order they came)."""
        self.flush()
        for month in sorted(os.listdir(self.folder)):
            with open(os.path.join(self.folder, month), encoding="utf-8") as handle:
                lines = handle.readlines()
            lines.sort(key=lambda line: line[:10])
            out.writelines(lines)
        shutil.rmtree(self.folder)


def generate(out: str, contacts: int, seed: int = 1, past_years: int = 0,
             work: str = "", jobs: int = 2, settle: bool = True, quiet: bool = False) -> dict:
    """Write the book to `out` (replacing it) and settle it; returns what the settling did."""
    start = time.perf_counter()
    work = work or os.path.join(os.path.dirname(os.path.abspath(out)) or ".", "prototypes")
    protos = prototypes(work, jobs, quiet)
    if os.path.exists(out):
        shutil.rmtree(out)
    make_book_skeleton(out)
    rng = random.Random(seed)
    buckets = Buckets(os.path.join(out, ".journal-buckets"))
    with open(os.path.join(out, "contacts.csv"), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(1, contacts + 1):
            contact = make_contact(i, rng, protos, past_years)
            writer.writerow(contact.values())
            for day, line in contact.lines:
                buckets.add(day, line)
    rows = buckets.rows
    with open(os.path.join(out, "history.csv"), "a", encoding="utf-8", newline="") as handle:
        buckets.write(handle)
    if not quiet:
        print(f"generated {contacts} contacts, {rows} journal rows in "
              f"{time.perf_counter() - start:.0f}s: {out}", file=sys.stderr)
    return settle_book(out, contacts, quiet) if settle else {}


def settle_book(book: str, contacts: int, quiet: bool = False) -> dict:
    """Replay Friday's cron `cadence run` on the book, report how much it did, drop its drafts.

    A book that stands where cron left it drafts nothing here; what the prototypes did not play
    (a birthday greeting, a call-back) shows up as a few drafts, now made as cron made them."""
    start = time.perf_counter()
    ledger = os.path.join(book, "contacts.csv")
    before = ledger + ".before-settle"
    shutil.copyfile(ledger, before)
    journal_size = os.path.getsize(os.path.join(book, "history.csv"))
    env = dict(os.environ, CADENCE_NO_CACHE="1")
    env.pop("CADENCE_TODAY", None)
    done = subprocess.run(CADENCE + ["-C", book, "run", "--today", FRIDAY.isoformat(), "--yes", "--json"],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"settling {book}: cadence run failed ({done.returncode}):\n{done.stderr}")
    drafted = json.loads(done.stdout).get("drafted", [])
    reasons: dict = {}
    for item in drafted:
        reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
    with open(os.path.join(book, "history.csv"), "rb") as handle:
        handle.seek(journal_size)
        appended = handle.read().decode("utf-8").splitlines()
    events: dict = {}
    for line in appended:
        event = line.split(",")[2]
        events[event] = events.get(event, 0) + 1
    changed = 0
    with open(before, "rb") as old, open(ledger, "rb") as new:
        for a, b in zip(old, new):
            changed += a != b
    os.unlink(before)
    shutil.rmtree(os.path.join(book, "drafts"), ignore_errors=True)
    report = {"contacts": contacts, "drafted": len(drafted), "by_reason": reasons,
              "journal_rows": events, "rows_changed": changed,
              "seconds": round(time.perf_counter() - start, 1)}
    if not quiet:
        share = 100 * len(drafted) / max(contacts, 1)
        print(f"settled: Friday {FRIDAY}'s replayed run drafted {len(drafted)} "
              f"({share:.2f}% of the contacts; {reasons or 'none'}), appended journal rows "
              f"{events or 'none'}, changed {changed} ledger rows, in {report['seconds']}s",
              file=sys.stderr)
    return report


def email_book(out: str, contacts: int, started: date, seed: int = 1) -> None:
    """A book of `contacts` reachable people who all started new-lead on `started` (enrolled
    by that day's run): the next day each is due its first touch, an email. Made once."""
    marker = os.path.join(out, ".generated.json")
    stamp = {"contacts": contacts, "started": started.isoformat(), "seed": seed}
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as handle:
            if json.load(handle) == stamp:
                return
    if os.path.exists(out):
        shutil.rmtree(out)
    make_book_skeleton(out)
    rng = random.Random(seed)
    day = started.isoformat()
    following = weekday_on_or_after(started + timedelta(days=1)).isoformat()
    with open(os.path.join(out, "contacts.csv"), "w", encoding="utf-8", newline="") as ledger, \
            open(os.path.join(out, "history.csv"), "a", encoding="utf-8", newline="") as journal:
        writer = csv.writer(ledger, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(1, contacts + 1):
            cid = f"e{i:07d}"
            row = dict.fromkeys(COLUMNS, "")
            row.update(person(i, rng.choice(LANGUAGES["new-lead"]), rng), id=cid,
                       age=str(rng.randint(24, 49)), playbook="new-lead", started=day,
                       next_due=following)
            writer.writerow([row[c] for c in COLUMNS])
            journal.write(f"{day},{cid},status,new-lead,,,,started\n")
    with open(marker, "w", encoding="utf-8") as handle:
        json.dump(stamp, handle)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("\n")[1:]))
    parser.add_argument("out", help="the book's folder (replaced)")
    parser.add_argument("--contacts", type=int, default=100_000, metavar="N",
                        help="how many (100000)")
    parser.add_argument("--seed", type=int, default=1, help="the random seed (1)")
    parser.add_argument("--past-years", type=int, default=0, metavar="Y",
                        help="earlier years of journal rows, a campaign a year (0)")
    parser.add_argument("--work", default="", metavar="DIR",
                        help="where the prototypes are kept (default: OUT's folder/prototypes)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes asking `cadence plan` for the prototypes (2)")
    parser.add_argument("--no-settle", action="store_true",
                        help="do not replay Friday's run (the book is then only nearly settled)")
    args = parser.parse_args()
    generate(args.out, args.contacts, args.seed, args.past_years, args.work, args.jobs,
             not args.no_settle)


if __name__ == "__main__":
    main()
