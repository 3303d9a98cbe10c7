"""Generate a realistic book of N contacts at every stage, seeded, for the benchmarks.

    python benchmarks/generate.py OUT_DIR --contacts 100000 [--span 730] [--years 1] [--seed 1]
                                  [--today D]

The book uses the bundled playbooks and templates. Contacts started over the past `--span` days
(two years: a book in use for a while, most of its contacts past their decision window) and
stand where a daily run would have left them; the journal holds their touches. `--years Y`
adds Y earlier years of touches from past campaigns, to measure how the journal's length weighs.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sys
from datetime import date, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from cadence.book import load_playbooks  # noqa: E402
from cadence.config import default_config  # noqa: E402

FIRST = ["Anna", "Erik", "Ольга", "James", "Maja", "Дмитрий", "Ірина", "Lars", "Sarah", "Peter",
         "Emma", "Олександр", "Claire", "Gustav", "Hanna", "Виктор", "Ingrid", "Tom", "Margaret"]
LAST = ["Lindqvist", "Johansson", "Смирнова", "Whitfield", "Holmberg", "Волков", "Павленко",
        "Nilsson", "Mitchell", "Andersson", "Karlsson", "Коваленко", "Dubois", "Ek", "Larsson"]
PLAYBOOKS = ["new-lead"] * 6 + ["new-lead-sv"] * 2 + ["new-lead-ru"] + ["stay-in-touch"] * 2
COLUMNS = ["id", "name", "email", "phone", "address", "company", "age", "playbook", "started",
           "status", "paused_until", "channels", "optout", "callback", "birthday", "last_reply",
           "touches", "last_touch", "last_channel", "last_step", "next_due"]
JOURNAL = ["date", "contact", "event", "playbook", "step", "channel", "template", "note"]


def prototypes(playbooks, today: date, span: int) -> dict:
    """(playbook, days since started) -> (ledger cells, journal rows) of a contact that a daily
    run has followed since it started, nobody replying: the engine itself plays the past."""
    from cadence import engine
    from cadence.contacts import parse_contacts

    class Rows:  # the smallest ledger parse_contacts reads
        columns = tuple(COLUMNS)
        lines = (2,)

        def __init__(self, row):
            self.rows = (row,)

        def source(self, index, column=None):
            return None

    out = {}
    for name in sorted(set(PLAYBOOKS)):
        for age in range(0, span + 1):
            started = today - timedelta(days=age)
            row = {c: "" for c in COLUMNS}
            row.update(id="x", name="x", email="x@example.com", phone="1", address="a",
                       playbook=name, started=started.isoformat())
            (contact,), _ = parse_contacts(Rows(row))
            st = engine.state_of(contact, (), playbooks)
            rows, day, next_due = [], started, None
            while day < today:
                result = engine.day(st, playbooks, day)
                rows.extend(result.entries)
                st, next_due = result.state, result.next_due
                if next_due is None:
                    break
                day = max(day + timedelta(days=1), next_due)
            cells = engine.changes_of(contact, st, next_due)
            cells.pop("started", None)
            out[(name, age)] = (cells, [[e.date.isoformat(), e.event, e.playbook, e.step,
                                         e.channel, e.template, e.note] for e in rows])
    return out


def contact_row(i: int, rng: random.Random, today: date, protos: dict, journal: list,
                years: int, span: int) -> list:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    cid = f"c{i:07d}"
    playbook = rng.choice(PLAYBOOKS)
    row = {c: "" for c in COLUMNS}
    row.update(id=cid, name=f"{first} {last}", email=f"{cid}@example.com",
               phone=f"+4670{i:07d}", address=f"Storgatan {i % 90 + 1}, Stockholm",
               company=f"{last} AB", age=str(rng.randint(25, 49)) if rng.random() < 0.5 else "",
               playbook=playbook)
    roll = rng.random()
    if roll < 0.01:
        row["playbook"] = ""
        return [row[c] for c in COLUMNS]
    if roll < 0.02:
        return [row[c] for c in COLUMNS]  # enrolled, not started: the next run starts it
    if rng.random() < 0.1:
        row["birthday"] = f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    age = rng.randint(0, span)
    started = today - timedelta(days=age)
    row["started"] = started.isoformat()
    for year in range(years, 0, -1):
        for n in range(26):  # a past campaign: a touch every other week
            day = started - timedelta(days=365 * year - 14 * n)
            journal.append([day.isoformat(), cid, "touch", "old-campaign", f"old-{n + 1}",
                            "email", "old", ""])
    cells, rows = protos[(playbook, age)]
    # a few contacts are behind: yesterday's run did not happen for them
    if rows and rng.random() < 0.02:
        cells, rows = protos[(playbook, max(0, age - 1))]
    row.update(cells)
    journal.extend([r[0], cid, *r[1:]] for r in rows)
    status = rng.random()
    if status < 0.03:
        row["status"] = "replied"
    elif status < 0.05:
        row["status"] = "won"
    elif status < 0.07:
        row["status"] = "lost"
    elif status < 0.08:
        row["status"] = "paused"
        row["paused_until"] = (today + timedelta(days=rng.randint(1, 30))).isoformat()
    if status >= 0.03 and status < 0.08:
        row["next_due"] = ""
    return [row[c] for c in COLUMNS]


def generate(out: str, contacts: int, years: int, seed: int, today: date,
             span: int = 730) -> None:
    rng = random.Random(seed)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for folder in ("playbooks", "templates"):
        shutil.copytree(os.path.join(ROOT, folder), os.path.join(out, folder))
    with open(os.path.join(out, "cadence.yaml"), "w", encoding="utf-8") as handle:
        handle.write("sender: {name: Bench Mark, email: bench@example.com}\n")
    playbooks, problems, _ = load_playbooks(default_config(out), None)
    assert not problems, problems
    protos = prototypes(playbooks, today, span)
    journal = []
    with open(os.path.join(out, "contacts.csv"), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(1, contacts + 1):
            writer.writerow(contact_row(i, rng, today, protos, journal, years, span))
    journal.sort(key=lambda r: r[0])
    with open(os.path.join(out, "history.csv"), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(JOURNAL)
        writer.writerows(journal)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--span", type=int, default=730,
                        help="days over which the contacts started")
    parser.add_argument("--years", type=int, default=0, help="earlier years of journal rows")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", default="2026-11-23")
    args = parser.parse_args()
    generate(args.out, args.contacts, args.years, args.seed, date.fromisoformat(args.today),
             args.span)


if __name__ == "__main__":
    main()
