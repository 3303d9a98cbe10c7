"""The cache only saves time: with it, without it, warm or stale, cadence writes the same bytes.

Each test has a cache folder of its own (conftest). `NO_CACHE` runs a command without it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence import cache as cache_module
from cadence.book import full_history
from cadence.config import load_config
from cadence.journal import read_contacts
from smallbook import build, invoke, snapshot
from test_hypothesis import make_book, playbooks, rows

NO_CACHE = {"CADENCE_NO_CACHE": "1"}


def _cache_files() -> list:
    folder = os.environ["CADENCE_CACHE_DIR"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def _days(start: str, n: int):
    first = date.fromisoformat(start)
    return [(first + timedelta(days=i)).isoformat() for i in range(n)]


def _run_days(root, days, env=None, between=None):
    outputs = []
    for day in days:
        if between:
            between(root, day)
        due = invoke("-C", root, "due", "--today", day, "--json", env=env)
        run = invoke("-C", root, "run", "--today", day, "--json", env=env)
        assert due.exit_code == 0 and run.exit_code == 0, due.output + run.output
        outputs.append((due.stdout, run.stdout))
    return outputs


def test_a_month_of_days_is_the_same_with_and_without_the_cache(tmp_path):
    days = _days("2026-11-01", 30)
    warm = build(tmp_path / "warm")
    cold = build(tmp_path / "cold")
    assert _run_days(warm, days) == _run_days(cold, days, env=NO_CACHE)
    assert snapshot(warm) == snapshot(cold)
    assert any(name.endswith(".rows") for name in _cache_files())


def _edit(root, day):
    """What people do between runs: agree a call-back, log a reply by hand, add a contact."""
    ledger = os.path.join(root, "contacts.csv")
    text = open(ledger, encoding="utf-8").read()
    if day == "2026-11-09":  # a call-back typed into the sheet for the next day
        lines = text.splitlines()
        head = lines[0].split(",")
        if "callback" not in head:
            lines = [lines[0] + ",callback"] + [line + "," for line in lines[1:]]
        head = lines[0].split(",")
        cells = lines[1].split(",")
        cells[head.index("callback")] = "2026-11-10"
        lines[1] = ",".join(cells)
        text = "\n".join(lines) + "\n"
    if day == "2026-11-12":  # a new contact
        text += ",".join(["c3", "Cy Dahl", "cy@example.com", "+46700000003", "p", ""]
                         + [""] * (len(text.splitlines()[0].split(",")) - 6)) + "\n"
    with open(ledger, "w", encoding="utf-8") as handle:
        handle.write(text)
    if day == "2026-11-15":
        assert invoke("-C", root, "reply", "c2", "--on", "2026-11-14").exit_code == 0


def test_edits_between_runs_are_seen_through_a_warm_cache(tmp_path):
    days = _days("2026-11-01", 24)
    extra = {"templates/callback.j2": "Call {{ contact.name }} back, as agreed.\n"}
    warm = build(tmp_path / "warm", extra)
    cold = build(tmp_path / "cold", extra)
    assert _run_days(warm, days, between=_edit) == \
        _run_days(cold, days, env=NO_CACHE, between=_edit)
    assert snapshot(warm) == snapshot(cold)
    assert b"callback" in snapshot(warm)["history.csv"]


def test_a_playbook_edit_is_seen(tmp_path):
    root = build(tmp_path / "book")
    _run_days(root, _days("2026-11-01", 5))
    path = os.path.join(root, "playbooks", "p.yaml")
    text = open(path, encoding="utf-8").read().replace("every: 1 week", "every: 2 days")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    for day in _days("2026-11-06", 40):
        with_cache = invoke("-C", root, "due", "--today", day, "--json")
        without = invoke("-C", root, "due", "--today", day, "--json", env=NO_CACHE)
        assert with_cache.stdout == without.stdout, day


def test_a_broken_or_foreign_cache_file_is_ignored(tmp_path):
    root = build(tmp_path / "book")
    _run_days(root, _days("2026-11-01", 3))
    folder = os.environ["CADENCE_CACHE_DIR"]
    broken = 0
    for base, _, names in os.walk(folder):  # the compiled templates too
        for name in names:
            with open(os.path.join(base, name), "wb") as handle:
                handle.write(b"\x80\x05not a pickle")
            broken += 1
    assert broken >= 4
    expected = invoke("-C", root, "due", "--today", "2026-11-04", env=NO_CACHE).stdout
    assert invoke("-C", root, "due", "--today", "2026-11-04").stdout == expected
    twin = build(tmp_path / "twin")
    _run_days(twin, _days("2026-11-01", 3), env=NO_CACHE)
    assert invoke("-C", root, "run", "--today", "2026-11-04").exit_code == 0
    assert invoke("-C", twin, "run", "--today", "2026-11-04", env=NO_CACHE).exit_code == 0
    assert snapshot(root) == snapshot(twin)


def test_no_cache_writes_no_cache(tmp_path):
    root = build(tmp_path / "book")
    _run_days(root, _days("2026-11-01", 3), env=NO_CACHE)
    assert _cache_files() == []


def test_a_cache_folder_that_cannot_be_written_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CADENCE_CACHE_DIR", str(blocker / "cache"))
    root = build(tmp_path / "book")
    assert _run_days(root, _days("2026-11-01", 3))  # every command exits 0


def test_a_day_before_the_cache_was_made_reads_the_book_afresh(tmp_path):
    root = build(tmp_path / "book")
    _run_days(root, _days("2026-11-01", 10))
    for day in _days("2026-10-25", 20):
        assert invoke("-C", root, "due", "--today", day).stdout == \
            invoke("-C", root, "due", "--today", day, env=NO_CACHE).stdout, day


def test_the_journal_index_gives_every_row_of_a_contact(tmp_path):
    root = build(tmp_path / "book")
    _run_days(root, _days("2026-11-01", 20))
    config = load_config(root)
    journal = os.path.join(root, "history.csv")
    ids = ["c1", "c2", "nobody", "c,3"]

    def both():
        cache_module._OPEN.clear()
        return full_history(config, ids), read_contacts(journal, ids)

    indexed, scanned = both()
    assert indexed == scanned and indexed["c1"]
    with open(journal, "a", encoding="utf-8") as handle:  # appended by hand, one id quoted
        handle.write('2026-11-21,c1,note,p,,,,"called, left a message"\n'
                     '2026-11-21,"c,3",note,p,,,,quoted id\n')
    indexed, scanned = both()
    assert indexed == scanned and indexed["c,3"] and indexed["c1"][-1].note.startswith("called")
    with open(journal, "w", encoding="utf-8") as handle:  # rewritten: the index starts again
        handle.write("date,contact,event,playbook,step,channel,template,note\n"
                     "2026-11-01,c2,note,p,,,,fresh\n")
    indexed, scanned = both()
    assert indexed == scanned == {"c2": scanned["c2"]}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pb=playbooks(), ledger_rows=rows(date(2026, 3, 1), n_max=5),
       start=st.integers(0, 60))
def test_any_book_runs_the_same_with_and_without_the_cache(pb, ledger_rows, start):
    days = [(date(2026, 3, 1) + timedelta(days=start + 3 * i)).isoformat() for i in range(8)]
    with tempfile.TemporaryDirectory() as folder:
        warm = make_book(os.path.join(folder, "warm"), pb, ledger_rows)
        cold = make_book(os.path.join(folder, "cold"), pb, ledger_rows)
        assert _run_days(warm, days) == _run_days(cold, days, env=NO_CACHE)
        assert snapshot(warm) == snapshot(cold)


def test_a_partial_shared_by_text_and_html_is_escaped_only_in_html(tmp_path):
    """Compiled templates are kept apart by how they escape: a cached HTML compile never
    serves the text part, nor the other way round."""
    overrides = {
        "templates/hello.j2": "Subject: Hi\n\n{% include 'sign.part' %}\n",
        "templates/hello.html.j2": "<p>{% include 'sign.part' %}</p>\n",
        "templates/sign.part": "{{ contact.name }}\n",
        "contacts.csv": "id,name,email,phone,playbook,started\n"
                        "c1,Ann <b>&</b>,ann@example.com,,p,2026-11-01\n",
    }
    root = tmp_path / "book"
    for attempt in ("cold", "warm"):  # the same book twice: the second finds compiled code
        if root.exists():
            shutil.rmtree(root)
        build(root, overrides)
        result = invoke("-C", root, "run", "--today", "2026-11-02")
        assert result.exit_code == 0, result.output
        eml = snapshot(root)["drafts/2026-11-02/c1--decide-1.eml"]
        assert b"Ann <b>&</b>" in eml and b"Ann &lt;b&gt;&amp;&lt;/b&gt;" in eml, attempt


def test_a_second_run_on_a_day_keeps_the_first_runs_touches_in_the_overview(tmp_path):
    """The day's index.md and calls.ics list the touches of every run that day."""
    books = {}
    for name, env in (("warm", None), ("cold", NO_CACHE)):
        root = build(tmp_path / name)
        # the day before widens the ledger with its state columns; then the day's first run
        assert invoke("-C", root, "run", "--today", "2026-11-01", env=env).exit_code == 0
        assert invoke("-C", root, "run", "--today", "2026-11-02", env=env).exit_code == 0
        ledger = os.path.join(root, "contacts.csv")
        width = len(open(ledger, encoding="utf-8").readline().split(","))
        with open(ledger, "a", encoding="utf-8") as handle:  # a contact added by hand
            handle.write("c3,Cy Dahl,cy@example.com,+46700000003,p,2026-11-01"
                         + "," * (width - 6) + "\n")
        assert invoke("-C", root, "run", "--today", "2026-11-02", env=env).exit_code == 0
        books[name] = snapshot(root)
    index = books["warm"]["drafts/2026-11-02/index.md"]
    assert b"c1--decide-1" in index and b"c3--decide-1" in index
    assert books["warm"] == books["cold"]


def test_a_journal_edited_in_place_is_read_afresh(tmp_path):
    root = build(tmp_path / "book")
    _run_days(root, _days("2026-11-01", 6))
    journal = os.path.join(root, "history.csv")
    with open(journal, "a", encoding="utf-8") as handle:  # notes enough to pass the last 4 KB
        handle.writelines(f"2026-11-06,c2,note,p,,,,call {i:03} went to voicemail\n"
                          for i in range(120))
    _run_days(root, _days("2026-11-07", 1))  # the cache takes them in
    data = open(journal, "rb").read()
    # c1's first touch given to c2 by hand, far from the end, the file's size unchanged
    at = data.index(b",c1,touch,")
    assert len(data) - at > 4096 + 100
    edited = data[:at] + b",c2,touch," + data[at + len(b",c1,touch,"):]
    assert len(edited) == len(data)
    stat = os.stat(journal)
    with open(journal, "wb") as handle:
        handle.write(edited)
    os.utime(journal, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    for day in _days("2026-11-08", 10):
        assert invoke("-C", root, "due", "--today", day, "--json").stdout == \
            invoke("-C", root, "due", "--today", day, "--json", env=NO_CACHE).stdout, day
    cache_module._OPEN.clear()
    ids = ["c1", "c2"]
    assert full_history(load_config(root), ids) == read_contacts(journal, ids)


def test_a_row_copied_in_a_warm_ledger_is_the_same_error_as_without_the_cache(tmp_path):
    """Rows the cache vouches for are taken in runs; an id twice still names both lines."""
    for where in ("end", "middle", "twice"):
        root = build(tmp_path / where)
        _run_days(root, _days("2026-11-01", 3))
        ledger = os.path.join(root, "contacts.csv")
        lines = open(ledger, encoding="utf-8").read().splitlines()
        if where == "end":
            lines.append(lines[1])  # the very text the cache knows, again
        elif where == "middle":
            lines.insert(2, lines[1])
        else:
            lines[1:1] = [lines[2], lines[1]]
        with open(ledger, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        warm = invoke("-C", root, "due", "--today", "2026-11-04")
        cold = invoke("-C", root, "due", "--today", "2026-11-04", env=NO_CACHE)
        assert warm.exit_code == cold.exit_code == 65, warm.output
        assert warm.stderr == cold.stderr and "duplicate id" in warm.stderr
