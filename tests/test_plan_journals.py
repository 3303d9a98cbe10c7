"""`plan` foretells what a `run` every day makes, for contacts with a past (README, `cadence
plan`: "what a `run` every day would make"): random books of tests/journalbooks.py, each
contact's plan against N days of runs, every touch equal (date, step, channel, detail, ...).

test_hypothesis.py holds the same for contacts without a journal; these start from journals
with replies, bounces, skips by hand, undos and rows typed into the sheet.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from jinja2 import DictLoader

from cadence import engine
from cadence.sandbox import condition, environment
from cadence.trail import trail_of
from helpers import contact
from journalbooks import contact_of_row, every_day, gen, trail_of_rows

CHUNKS, SEEDS = 6, 80  # 480 books (and 240 with `if` rules); a chunk a test, so that they spread over the workers
# `if` rules that read cells a run writes, and one that reads a cell it does not
IFS = ("contact.touches in ['2', '3', '4']", "contact.last_channel == 'email'",
       "contact.status == 'active'", "contact.last_step == 'decide-2'",
       "contact.paused_until != ''", "contact.get('touches') == '3'")
# the same rules as the fuzzing that found them, for the books it found (seed: what it held)
FOUND = {200351: "a skip journaled between two touches changes last_step, which an if reads"}


def _agree(seed: int, ifs=(), test=None) -> None:
    case = gen(seed, ifs, test)
    c, pbs = contact(**case["cells"]), case["playbooks"]
    planned = engine.plan(c, trail_of(case["rows"]), pbs, case["today"], case["days"], test)
    made = every_day(case["cells"], case["rows"], pbs, case["today"], case["days"], test)
    assert planned == made, (seed, case["mode"], case["ledger"])


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_plan_foretells_the_runs_after_a_past(chunk):
    for seed in range(chunk * SEEDS, (chunk + 1) * SEEDS):
        _agree(seed)


@pytest.mark.parametrize("chunk", range(CHUNKS // 2))
def test_plan_foretells_if_rules_over_the_cells_runs_write(chunk):
    """An `if` rule reading `touches` or `status` sees each day the row the runs before it
    wrote, in the plan as in the runs."""
    test = condition(environment(DictLoader({})))
    for seed in range(100_000 + chunk * SEEDS, 100_000 + (chunk + 1) * SEEDS):
        _agree(seed, IFS, test)


@pytest.mark.parametrize("seed", sorted(FOUND), ids=[FOUND[s] for s in sorted(FOUND)])
def test_plan_foretells_the_books_fuzzing_found(seed):
    _agree(seed, IFS + ("contact.last_step == 'mid-1'",),
           condition(environment(DictLoader({}))))


@pytest.mark.parametrize("chunk", range(CHUNKS // 2))
def test_due_shows_what_run_makes_each_day(chunk):
    """`due` works out only what can come today (a horizon), `run` everything: on each of 30
    days of a run every day, the touch `due` shows is the one `run` makes."""
    for seed in range(200_000 + chunk * SEEDS, 200_000 + (chunk + 1) * SEEDS):
        case = gen(seed)
        books, row, rows = case["playbooks"], dict(case["cells"]), tuple(case["rows"])
        for n in range(30):
            today = case["today"] + timedelta(days=n)
            c, trail = contact_of_row(row), trail_of_rows(rows)
            st = engine.state_of(c, trail, books)
            shown = engine.day(st, books, today, want_next=False).touch if st.playbook else None
            made = engine.advance(c, trail, books, today)
            assert shown == made.touch, (seed, str(today))
            row.update(made.changes)
            rows += made.entries
