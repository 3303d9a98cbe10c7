"""forecast and stats: the engine run forward over a ledger, and a journal summed by hand."""
from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from datetime import date

import pytest
from typer.testing import CliRunner

from cadence import engine
from cadence.book import journal_rows, load
from cadence.main import app
from cadence.book import load_config
from cadence.export import cell, to_csv
from cadence.report import forecast, stats
from helpers import build_tree

BASIC = os.path.join(os.path.dirname(__file__), "books", "basic", "book")
TODAY = date(2026, 11, 23)


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_forecast_is_the_sum_of_the_plans():
    book = load(load_config(BASIC)).book
    result = forecast(book, TODAY, 30)
    expected = Counter()
    for contact in book.contacts:
        for touch in engine.plan(contact, book.trails.get(contact.id), book.playbooks,
                                 TODAY, 30, book.condition):
            expected[(touch.made, touch.channel)] += 1
    got = Counter({(d, ch): n for d, counts in result.per_day for ch, n in counts.items() if n})
    assert got == expected
    assert len(result.per_day) == 30
    assert sum(got.values()) > 8
    today = dict(result.per_day)[TODAY]
    assert sum(today.values()) == 8  # what `due` lists today
    assert {t.contact for t in result.backlog} == {"optout"}


def test_a_shorter_forecast_is_the_first_days_of_a_longer_one():
    """`forecast --days N` covers N days, its last day whole (it once dropped the touches of
    its last day: `plan` was asked for one day fewer)."""
    book = load(load_config(BASIC)).book
    month = forecast(book, TODAY, 30).per_day
    for days in range(1, 30):
        assert forecast(book, TODAY, days).per_day == month[:days], days
    assert any(sum(counts.values()) for _, counts in month[1:12])


def test_forecast_cli_json_and_csv(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(BASIC, book)
    document = json.loads(invoke("-C", book, "forecast", "--today", TODAY, "--days", "7",
                                 "--json").stdout)
    assert document["backlog"] == {"touches": 1, "by_channel": {
        "email": 0, "call": 1, "sms": 0, "messenger": 0, "letter": 0}}
    assert [d["date"] for d in document["per_day"]][:2] == ["2026-11-23", "2026-11-24"]
    csv_text = invoke("-C", book, "forecast", "--today", TODAY, "--days", "7", "--csv").stdout
    lines = csv_text.splitlines()
    # the basic book's ledger is semicolon-separated: so is its export (README, `due --csv`)
    assert lines[0] == "date;email;call;sms;messenger;letter;total;overdue"
    assert lines[1] == "2026-11-23;3;4;0;0;1;8;1"
    table = invoke("-C", book, "forecast", "--today", TODAY, "--days", "7").stdout
    assert "2026-11-23 Mon" in table and "█" in table


STATS_BOOK = {
    "cadence.yaml": "",
    "playbooks/p.yaml": """\
        limits: {per_week: 3}
        phases:
          - name: decide
            until: 30 days
            steps:
              - {at: 1 day, channel: email, template: t}
              - {after: 2 days, channel: call, template: t}
          - name: remind
            every: 1 month
            channel: email
            template: t
        rules:
          - reply: continue
        """,
    "templates/t.j2": "Subject: x\n\nx\n",
    "contacts.csv": """\
        id,name,email,phone,playbook,started,status,last_touch,last_step
        a,Ann,a@x.se,1,p,2026-11-01,active,2026-11-04,decide-2
        b,Bo,b@x.se,2,p,2026-11-01,won,2026-11-02,decide-1
        c,Cy,c@x.se,3,p,2026-06-01,active,2026-07-15,remind-1
        d,Di,d@x.se,4,,,,,
        """,
    "history.csv": """\
        date,contact,event,playbook,step,channel,template,note
        2026-11-02,a,touch,p,decide-1,email,t,
        2026-11-04,a,touch,p,decide-2,call,t,
        2026-11-05,a,reply,p,,,,
        2026-11-02,b,touch,p,decide-1,email,t,
        2026-11-02,b,reply,p,,,,
        2026-07-15,c,touch,p,remind-1,email,t,
        """,
}


def test_stats_by_hand(tmp_path):
    build_tree(tmp_path, STATS_BOOK)
    cfg = load_config(str(tmp_path))
    loaded = load(cfg)
    book = loaded.book

    def rows():
        return journal_rows(cfg, loaded.ledger_bytes)

    result = stats(book, rows, TODAY)
    assert result["touches"] == 4 and result["replies"] == 2
    # email: 3 touches, b replied to an email; call: 1 touch, a replied to the call
    assert result["by_channel"] == [
        {"channel": "call", "touches": 1, "replies": 1, "reply_rate": 1.0},
        {"channel": "email", "touches": 3, "replies": 1, "reply_rate": 0.3333},
    ]
    assert {(s["step"], s["touches"], s["replies"]) for s in result["by_step"]} == {
        ("decide-1", 2, 1), ("decide-2", 1, 1), ("remind-1", 1, 0)}
    assert result["status"] == {"active": 3, "won": 1}
    assert result["won"] == {"p": 1}
    assert result["phase"] == [{"playbook": "p", "phase": "decide", "contacts": 1},
                               {"playbook": "p", "phase": "remind", "contacts": 1}]
    # c's remind-2 was due 2026-08-15: 100 days late, three months missed
    assert result["slipped"] == [{"contact": "c", "name": "Cy", "playbook": "p",
                                  "step": "remind-2", "due": "2026-08-15", "overdue": 100,
                                  "months": 3}]
    since = stats(book, rows, TODAY, date(2026, 11, 3))
    assert since["touches"] == 1 and since["by_channel"] == [
        {"channel": "call", "touches": 1, "replies": 1, "reply_rate": 1.0}]


def test_a_touch_answered_twice_counts_once(tmp_path):
    """README "stats": a reply recorded, then its decision with a second `reply` the same day,
    and a later message in the same thread before the next touch, answer one touch: one reply
    that day, one touch answered, a rate of at most 100%."""
    book = dict(STATS_BOOK)
    book["history.csv"] = book["history.csv"].replace(
        "2026-11-05,a,reply,p,,,,\n",
        "2026-11-05,a,reply,p,,,,\n        2026-11-05,a,reply,p,,,,reply: pause until 2026-11-19\n"
        "        2026-11-06,a,reply,p,,,,<m2@x> Re: the call\n")
    build_tree(tmp_path, book)
    cfg = load_config(str(tmp_path))
    loaded = load(cfg)
    result = stats(loaded.book, lambda: journal_rows(cfg, loaded.ledger_bytes), TODAY)
    assert result["replies"] == 3  # a on two days, b on one
    assert result["by_channel"] == [
        {"channel": "call", "touches": 1, "replies": 1, "reply_rate": 1.0},
        {"channel": "email", "touches": 3, "replies": 1, "reply_rate": 0.3333},
    ]


def test_a_reply_answers_the_touch_logged_by_hand_after_the_days_run(tmp_path):
    """Of one day's touches, one logged by hand (no step) comes after the run's: a reply
    that day answers the call logged by hand, not the email the run drafted."""
    book = dict(STATS_BOOK)
    book["history.csv"] = book["history.csv"].replace(
        "2026-11-02,b,reply,p,,,,\n",
        "2026-11-02,b,touch,p,,call,,by hand\n        2026-11-02,b,reply,p,,,,\n")
    build_tree(tmp_path, book)
    cfg = load_config(str(tmp_path))
    loaded = load(cfg)
    result = stats(loaded.book, lambda: journal_rows(cfg, loaded.ledger_bytes), TODAY)
    assert {(s["step"], s["replies"]) for s in result["by_step"]} == {
        ("decide-1", 0), ("decide-2", 1), ("remind-1", 0), ("(by hand)", 1)}


def test_stats_cli(tmp_path):
    build_tree(tmp_path, STATS_BOOK)
    result = invoke("-C", tmp_path, "stats", "--today", TODAY, "--json")
    assert json.loads(result.stdout)["touches"] == 4
    text = invoke("-C", tmp_path, "stats", "--today", TODAY).stdout
    assert "Touches in the whole journal: 4, replies: 2" in text and "Slipped" in text
    csv_text = invoke("-C", tmp_path, "stats", "--today", TODAY, "--csv").stdout
    assert csv_text.splitlines()[0] == "section,playbook,key,touches,replies,reply_rate,contacts"
    assert "channel,,call,1,1,1.0," in csv_text
    bad = invoke("-C", tmp_path, "stats", "--since", "yesterday")
    assert bad.exit_code == 2 and "--since: expected a date" in bad.stderr


@pytest.mark.parametrize("value,safe", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+46701234567", "'+46701234567"),
    ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Ann", "Ann"), ("2026-11-23", "2026-11-23"), (3, "3"), (None, ""),
])
def test_csv_cells_never_start_a_formula(value, safe):
    assert cell(value) == safe


def test_due_csv_is_safe(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(BASIC, book)
    path = book / "contacts.csv"
    path.write_bytes(path.read_bytes().replace("Åsa Öberg".encode(), b"=cmd|' /C calc'!A0"))
    text = invoke("-C", book, "due", "--today", TODAY, "--csv").stdout
    assert "'=cmd|' /C calc'!A0" in text
    assert text.splitlines()[0] == ("contact;name;playbook;phase;step;channel;template;due;"
                                    "overdue;reason;time")  # the ledger's delimiter
    assert to_csv(["a"], [["=1"]]) == "a\n'=1\n"


@pytest.mark.parametrize("value", [
    "Ann;=HYPERLINK(\"http://x\")", "  =1+1", "\n=cmd", " \t@SUM(A1)", "a,b", "tab\there",
    'say "hi"', "line\nbreak", "Ann Lind", "", "-", "=",
])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_no_spreadsheet_locale_splits_a_cell_into_a_formula(value, delimiter):
    """However a spreadsheet splits the line (`,`, `;` or tab), each cell comes back whole, and
    none begins a formula, even after white space."""
    import csv
    import io

    text = to_csv(["name", "n"], [[value, 1]], delimiter)
    for split in (",", ";", "\t"):
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=split))
        for row in rows:
            for got in row:
                assert not got.lstrip(" \t\r\n").startswith(("=", "+", "-", "@")), (split, row)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert rows[1][1] == "1" and rows[1][0].lstrip("'") == value
