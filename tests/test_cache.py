"""The journal's cache (cadence.cache) never changes an answer.

Random books run day by day with the cache on and with it off give the same bytes: what `due`
and `run` print, every draft, the ledger and the journal. An entry that does not match the
journal's bytes, or that is not an entry at all, is passed over; the cache's folder is the
user's alone.
"""
from __future__ import annotations

import json
import os
import stat
import tempfile
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from cadence import cache
from cadence.trail import fold
from helpers import build_tree
from randombooks import books, examples, make_book, slow
from smallbook import FILES, invoke, snapshot

FEW = examples(15)


def _days(root: str, today, days: int, env: dict) -> list:
    """What `due` and `run` print on each of `days` days up to `today`."""
    printed = []
    for n in range(days, -1, -1):
        day = (today - timedelta(days=n)).isoformat()
        for command in (["due", "--json"], ["run", "--json"]):
            result = invoke("-C", root, *command, "--today", day, env=env)
            printed.append((result.exit_code, result.stdout, result.stderr))
    return printed


@slow
@FEW
@given(books(), st.integers(1, 10))
def test_random_books_give_the_same_bytes_with_the_cache_and_without(book, days):
    pb, ledger_rows, today = book
    with tempfile.TemporaryDirectory() as folder:
        on = make_book(os.path.join(folder, "on"), pb, ledger_rows)
        off = make_book(os.path.join(folder, "off"), pb, ledger_rows)
        cached = {"CADENCE_CACHE_DIR": os.path.join(folder, "cache"), "CADENCE_NO_CACHE": ""}
        uncached = {"CADENCE_NO_CACHE": "1"}
        assert _days(on, today, days, cached) == _days(off, today, days, uncached)
        assert snapshot(on) == snapshot(off)
        assert os.listdir(os.path.join(folder, "cache"))  # the cache was used


def _journal(tmp_path, rows: str) -> str:
    path = tmp_path / "history.csv"
    path.write_text("date,contact,event,playbook,step,channel,template,note\n" + rows,
                    encoding="utf-8")
    return str(path)


def _trails(path: str, folder) -> tuple:
    with open(path, "rb") as handle:
        return cache.journal_trails(handle, path, str(folder))


ROWS = ("2026-11-02,c1,touch,p,decide-1,email,hello,\n"
        "2026-11-04,c1,touch,p,decide-2,call,call,\n"
        "2026-11-02,c2,touch,p,decide-1,email,hello,\n")


def _plain(path: str):
    def lines():
        with open(path, "rb") as handle:
            yield from handle

    return fold(lines, path)


def test_an_appended_journal_is_folded_on_top_of_the_entry(tmp_path):
    path = _journal(tmp_path, ROWS)
    assert _trails(path, tmp_path / "c") == _plain(path)
    (entry,) = os.listdir(tmp_path / "c")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("2026-11-06,c1,touch,p,decide-3,email,hello,\n2026-11-05,c2,reply,p,,,,\n")
    assert _trails(path, tmp_path / "c") == _plain(path)
    assert _trails(path, tmp_path / "c")[0]["c1"].touches == 3


def test_a_journal_changed_in_place_is_a_miss(tmp_path):
    """Same size, one byte changed before the end: the entry no longer matches its digest."""
    path = _journal(tmp_path, ROWS)
    _trails(path, tmp_path / "c")
    text = open(path, encoding="utf-8").read().replace("decide-2,call", "decide-2,sms ")
    open(path, "w", encoding="utf-8").write(text)
    assert _trails(path, tmp_path / "c") == _plain(path)
    assert _trails(path, tmp_path / "c")[0]["c1"].last.channel == "sms"


def test_a_journal_cut_shorter_is_a_miss(tmp_path):
    path = _journal(tmp_path, ROWS)
    _trails(path, tmp_path / "c")
    _journal(tmp_path, ROWS.split("\n", 1)[0] + "\n")
    assert _trails(path, tmp_path / "c") == _plain(path)


def test_a_planted_entry_that_claims_the_journal_is_passed_over(tmp_path):
    """An entry whose digest matches but whose folds are not folds, or not these: the digest
    vouches for the bytes it names, and a malformed entry is a miss."""
    path = _journal(tmp_path, ROWS)
    folder = tmp_path / "c"
    _trails(path, folder)
    (name,) = os.listdir(folder)
    entry = folder / name
    data = json.loads(entry.read_text())
    state = data["folds"]["c1"]
    for folds in ({"c1": "rm -rf /"}, [], {"c1": [1, 2, 3]}, {"c1": [-5] + [None] * 9},
                  {"c1": [-5] + state[1:]}, {"c1": state[:4] + [7] + state[5:]},
                  {"c1": state[:6] + [None] + state[7:]}):
        entry.write_text(json.dumps(dict(data, folds=folds)))
        assert _trails(path, folder) == _plain(path)
    entry.write_bytes(b"\x80\x04not json")
    assert _trails(path, folder) == _plain(path)


def test_the_cache_folder_is_the_user_s_alone(tmp_path):
    folder = tmp_path / "made"
    path = _journal(tmp_path, ROWS)
    _trails(path, folder)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    assert _trails(path, shared) == _plain(path)
    assert os.listdir(shared) == []  # others may write there: nothing is read or written


def test_a_journal_without_a_final_line_break_is_not_kept(tmp_path):
    path = _journal(tmp_path, ROWS + "2026-11-08,c2,touch,p,decide-2,call,call,")
    assert _trails(path, tmp_path / "c") == _plain(path)
    assert not os.listdir(tmp_path / "c")


def test_cadence_no_cache_leaves_the_folder_alone(tmp_path):
    book = tmp_path / "book"
    build_tree(book, FILES)
    folder = tmp_path / "cache"
    result = invoke("-C", book, "due", "--today", "2026-11-02",
                    env={"CADENCE_NO_CACHE": "1", "CADENCE_CACHE_DIR": str(folder)})
    assert result.exit_code == 0, result.output
    assert not folder.exists()
    result = invoke("-C", book, "due", "--today", "2026-11-02",
                    env={"CADENCE_NO_CACHE": "", "CADENCE_CACHE_DIR": str(folder)})
    assert result.exit_code == 0 and os.listdir(folder)


def _journals(tmp_path, count: int) -> list:
    paths = []
    for number in range(count):
        (tmp_path / f"b{number}").mkdir()
        paths.append(_journal(tmp_path / f"b{number}", ROWS))
    return paths


def _age(path: str, seconds: float) -> None:
    when = os.stat(path).st_mtime - seconds
    os.utime(path, (when, when))


def test_the_folder_keeps_the_journals_last_used(tmp_path, monkeypatch):
    """One entry a journal, the KEEP last used; an entry read (a hit that writes nothing)
    counts as used. A removed entry costs only a fold: the answer is the same."""
    monkeypatch.setattr(cache, "KEEP", 3)
    folder = tmp_path / "c"
    paths = _journals(tmp_path, 5)
    for number, path in enumerate(paths[:3]):
        _trails(path, folder)
        _age(cache._entry_path(str(folder), path), 100 * (5 - number))
    _trails(paths[0], folder)  # a hit: the oldest entry is used again
    _trails(paths[3], folder)  # a fourth journal: the least recently used one goes
    kept = {cache._entry_path(str(folder), path) for path in (paths[0], paths[2], paths[3])}
    assert {str(folder / name) for name in os.listdir(folder)} == kept
    assert _trails(paths[1], folder) == _plain(paths[1])
    assert len(os.listdir(folder)) == 3


def test_a_temporary_file_a_killed_command_left_is_removed(tmp_path):
    folder = tmp_path / "c"
    path = _journal(tmp_path, ROWS)
    _trails(path, folder)
    left, fresh = folder / ".cadence-left.tmp", folder / ".cadence-fresh.tmp"
    mine = [folder / "journal-notes.json", folder / ".cadence-my notes.tmp"]
    for made in [left, fresh] + mine:
        made.write_bytes(b"")
        _age(str(made), cache.STALE_TMP + 60)  # a fresh one may be another command's, writing
    os.utime(fresh)
    os.unlink(cache._entry_path(str(folder), path))
    _trails(path, folder)
    # only names cadence gives its files go: a folder named by CADENCE_CACHE_DIR may hold others
    assert sorted(os.listdir(folder)) == sorted(
        [".cadence-fresh.tmp", "journal-notes.json", ".cadence-my notes.tmp",
         os.path.basename(cache._entry_path(str(folder), path))])


def test_mail_cursors_are_kept_for_the_books_last_synced(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "KEEP", 2)
    folder = str(tmp_path / "c")
    for number in range(3):
        cache.save_mail_cursors(folder, f"book{number}", None, {"INBOX": (1, number)})
        _age(cache._cursor_path(folder, f"book{number}"), 100 * (3 - number))
    assert cache.mail_cursors(folder, "book0") == {}
    assert cache.mail_cursors(folder, "book2")["folders"] == {"INBOX": (1, 2)}
    assert len(os.listdir(folder)) == 2


_EVENTS = st.sampled_from([
    "touch,p,decide-1,email,hello,", "touch,p,decide-2,call,call, note", "touch,q,keep-1,letter,l,",
    "touch,p,birthday,email,bd,", "touch,p,callback,call,cb,", "touch,p,,email,,by hand",
    "skip,p,decide-3,email,hello,skipped", "skip,p,no_reply,call,call,", "skip,p,birthday,,,",
    "reply,p,,,,reply: stop", "reply,p,,,,<a@b> Re: hello", "reply,p,,,,junk: <j@b> Re: x",
    "autoreply,p,,,,<x@y> away", "bounce,p,,,,<m@b> failed [address C@Example.org]",
    "sent,p,,,,<a@b> sent", "status,p,,,,started", "status,q,,,,started",
    "status,p,,,,paused until 2026-12-01", "status,p,,,,won (set in the ledger)",
    "note,p,,,,callback 2026-11-20T14:00 call me", "note,p,,,,last_reply 2026-11-03",
    "note,p,,,,reply on 2026-11-04", " touch , p , decide-1 , email , hello ,",
    "status,p,,,,won", "status,p,,,,lost (set in the ledger)", "reply,p,,,,reply: continue",
    "note,p,,,,callback 2026-11-21", "note,p,,,,last_reply 2026-10-20 (set in the ledger)",
    'touch,p,decide-1,email,hello,"a, quoted note"',
    "note,p,,,,opted out of email", "note,p,,,,opted back in to email",
    'note,p,,,,"opted out of all, call; asked by phone"', "note,p,,,,opted back in to all",
    "note,p,,,,opted out of the newsletter",
])


@given(st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["c1", "c2", "c3"]), _EVENTS),
                max_size=40))
def test_a_saved_fold_gives_the_trail_its_fold_gives(rows):
    """A contact with no new row gets its Trail straight from the saved fold
    (`trail._saved_trail`): the same Trail as the fold itself gives, field by field."""
    from datetime import date as day_of

    from cadence import trail as t

    start = day_of(2026, 10, 1)
    lines = ["date,contact,event,playbook,step,channel,template,note\n"] + [
        f"{(start + timedelta(days=n)).isoformat()},{cid},{event}\n" for n, cid, event in rows]
    folds = {}
    assert t.fold_more(folds, [line.encode() for line in lines], "history.csv") == []
    for cid, acc in folds.items():
        state = json.loads(json.dumps(acc.state()))  # as the cache keeps it
        assert t._saved_trail(cid, state, {}, {}) == acc.trail(cid, {})


_DECISIONS = st.sampled_from([
    "status,p,,,,won", "status,p,,,,lost (set in the ledger)", "status,p,,,,won (set in the ledger)",
    "status,p,,,,paused until 2026-12-01", "status,p,,,,active again after a pause until 2026-10-02",
    "reply,p,,,,reply: stop", "reply,p,,,,reply: continue", "note,p,,,,callback 2026-11-21",
    "note,p,,,,callback 2026-11-20T14:00 (set in the ledger)", "note,p,,,,reply on 2026-10-02",
    "note,p,,,,last_reply 2026-09-20 (set in the ledger)", "touch,p,decide-1,email,hello,",
])


@given(st.lists(st.tuples(st.integers(0, 1), st.just("c1"), _DECISIONS), max_size=20) |
       st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["c1", "c2"]), _EVENTS),
                max_size=30), st.randoms(use_true_random=False))
def test_the_same_rows_in_any_order_give_the_same_trail(rows, shuffle):
    """A fold keeps counts, sets and the latest rows by date (of one day's, all of them where
    the journal cannot say which came last): the rows' order never matters."""
    from datetime import date as day_of

    from cadence import trail as t

    start = day_of(2026, 10, 1)
    lines = [f"{(start + timedelta(days=n)).isoformat()},{cid},{event}\n" for n, cid, event in rows]
    header = "date,contact,event,playbook,step,channel,template,note\n"
    once, problems = t.fold(lambda: [line.encode() for line in [header] + lines], "h.csv")
    shuffle.shuffle(lines)
    again, _ = t.fold(lambda: [line.encode() for line in [header] + lines], "h.csv")
    assert problems == [] and once == again


_CONTACTS = st.sampled_from(["c1", "c2", " c2", "c3 ", "c\u00e41", '"c1"', "c1\x1f", "c2\u00a0"])


@given(st.lists(st.tuples(st.integers(0, 40), _CONTACTS, _EVENTS), max_size=40),
       st.sets(st.sampled_from(["c1", "c2", "c3", "c\u00e41", "c4"])),
       st.sampled_from([",", ";"]))
def test_reading_a_few_contacts_rows_gives_what_reading_them_all_gives(rows, wanted, delimiter):
    """`read_rows(..., wanted)` passes over the lines that plainly name other contacts
    (`journal.records`' `only`): the rows it gives are those of a read of every row."""
    from datetime import date as day_of

    from cadence.journal import read_rows

    start = day_of(2026, 10, 1)
    header = "date,contact,event,playbook,step,channel,template,note\n".replace(",", delimiter)
    lines = [header] + [
        f"{(start + timedelta(days=n)).isoformat()},{cid},{event}\n".replace(",", delimiter)
        for n, cid, event in rows if delimiter == "," or '"' not in event]
    data = [line.encode() for line in lines]
    everything, problems = read_rows(data, "history.csv")
    few, _ = read_rows(data, "history.csv", wanted)
    assert few == {cid: found for cid, found in everything.items() if cid in wanted}
