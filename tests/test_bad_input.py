"""Every bad input answered: the exit code, a message naming the place, and no file changed.

Each case builds the small book (tests/smallbook.py) in tmp_path with one file spoilt, runs the
CLI in it, and compares every byte of the book before and after (the lock file aside). Inputs
that must work (a BOM, `;` and tab delimiters, CRLF with line breaks in cells, YAML 1.1
look-alikes) are run too, and what they write back is checked byte for byte.
"""
from __future__ import annotations

import codecs
import email
import email.policy
import json
import os
import time

import pytest

from smallbook import HEADER, JOURNAL, LEDGER, TODAY, build, changed, invoke, snapshot

ROW1 = "c1,Ann Lind,ann@example.com,+46701234567,p,2026-11-01"
ROW2 = "c2,Bob Berg,bob@example.com,,p,2026-11-01"
STATE = ",status,paused_until,touches,last_touch,last_channel,last_step,next_due"
DONE = ",,,1,2026-11-02,email,decide-1,2026-11-04"


@pytest.fixture
def in_book(tmp_path, monkeypatch):
    """Build the book with some files replaced, and run in it: messages show relative paths."""

    def make(files=None):
        root = build(tmp_path / "book", files)
        monkeypatch.chdir(root)
        return root

    return make


def refused(root, code: int, *lines, args=("run", "--today", TODAY)) -> str:
    """Run, expect `code`, each of `lines` on stderr, nothing written; returns stderr."""
    before = snapshot(root)
    start = time.perf_counter()
    result = invoke("-C", root, *args)
    elapsed = time.perf_counter() - start
    assert result.exit_code == code, result.output
    for line in lines:
        assert line in result.stderr, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert changed(before, snapshot(root)) == []
    assert elapsed < 5, f"{elapsed:.1f}s: hostile input must be cheap to refuse"
    return result.stderr


def ran(root, args=("run", "--today", TODAY)):
    result = invoke("-C", root, *args)
    assert result.exit_code == 0, result.output
    return result


def read(root, rel: str) -> bytes:
    with open(os.path.join(root, rel), "rb") as handle:
        return handle.read()


def draft(root, name: str):
    return email.message_from_bytes(read(root, f"drafts/{TODAY}/{name}"), policy=email.policy.default)


# --- the ledger (CSV): what must work -----------------------------------------------------------

EXPECTED = f"{HEADER[:-1]}{STATE}\n{ROW1}{DONE}\n{ROW2}{DONE}\n"


@pytest.mark.parametrize("case, ledger, expected", [
    ("bom", codecs.BOM_UTF8 + LEDGER.encode(), codecs.BOM_UTF8 + EXPECTED.encode()),
    ("semicolons", LEDGER.replace(",", ";").encode(), EXPECTED.replace(",", ";").encode()),
    ("tabs", LEDGER.replace(",", "\t").encode(), EXPECTED.replace(",", "\t").encode()),
    ("crlf", LEDGER.replace("\n", "\r\n").encode(), EXPECTED.replace("\n", "\r\n").encode()),
    ("cr only", LEDGER.replace("\n", "\r").encode(), EXPECTED.replace("\n", "\r").encode()),
    ("quoted line break, crlf rows",
     (HEADER + 'c1,"Ann\nLind",ann@example.com,+46701234567,p,2026-11-01\n' + ROW2 + "\n")
     .replace(",p,2026-11-01\n", ",p,2026-11-01\r\n").replace("started\n", "started\r\n").encode(),
     (HEADER[:-1] + STATE + '\r\nc1,"Ann\nLind",ann@example.com,+46701234567,p,2026-11-01' + DONE
      + "\r\n" + ROW2 + DONE + "\r\n").encode()),
    ("quoted cells", (HEADER + '"c1","Ann Lind","ann@example.com","+46701234567","p","2026-11-01"\n'
                      + ROW2 + "\n").encode(),
     # the row that quotes every cell has its new cells quoted too (SPEC 2: same quoting)
     (HEADER[:-1] + STATE + '\n"c1","Ann Lind","ann@example.com","+46701234567","p","2026-11-01"'
      + ",".join('"' + cell + '"' for cell in DONE.split(","))[2:] + "\n" + ROW2 + DONE
      + "\n").encode()),
    ("no final newline", LEDGER[:-1].encode(), EXPECTED[:-1].encode()),
])
def test_csv_dialects_work_and_are_written_back_in_kind(in_book, case, ledger, expected):
    root = in_book({"contacts.csv": ledger})
    result = ran(root)
    assert "Drafted 2 touches" in result.stdout
    assert read(root, "contacts.csv") == expected
    if "line break" in case:
        assert draft(root, "c1--decide-1.eml")["To"] == "Ann Lind <ann@example.com>"


def test_a_cp1251_ledger_with_its_encoding_is_written_back_in_cp1251(in_book):
    ledger = (HEADER + "c1,Анна Петрова,ann@example.com,,p,2026-11-01\n").encode("cp1251")
    root = in_book({"contacts.csv": ledger, "cadence.yaml": "encoding: cp1251\n"})
    ran(root)
    assert read(root, "contacts.csv") == (
        HEADER[:-1] + STATE + "\nc1,Анна Петрова,ann@example.com,,p,2026-11-01" + DONE + "\n"
    ).encode("cp1251")
    assert draft(root, "c1--decide-1.eml")["Subject"] == "Hello Анна Петрова"


def test_a_utf16_ledger_with_its_encoding_keeps_its_byte_order_mark(in_book):
    ledger = codecs.BOM_UTF16_LE + LEDGER.replace("\n", "\r\n").encode("utf-16-le")
    root = in_book({"contacts.csv": ledger, "cadence.yaml": "encoding: utf-16\n"})
    ran(root)
    assert read(root, "contacts.csv") == codecs.BOM_UTF16_LE + EXPECTED.replace(
        "\n", "\r\n").encode("utf-16-le")


# --- the ledger (CSV): what is refused, and where ---------------------------------------------

CP = "hint: set `encoding:` in cadence.yaml to the file's encoding; it looks like `encoding: {}`"

CSV_REFUSED = {
    # case: (ledger bytes, stderr lines)
    "cp1251 without encoding": ((HEADER + "c1,Анна,ann@example.com,,p,2026-11-01\n").encode("cp1251"),
                                ["contacts.csv:2:4: cannot decode byte 0xc0 as utf-8",
                                 CP.format("cp1251")]),
    "cp1252 without encoding": ((HEADER + "c1,Zoé Müller,zoe@example.com,,p,2026-11-01\n").encode("cp1252"),
                                ["contacts.csv:2:6: cannot decode byte 0xe9 as utf-8",
                                 CP.format("cp1252")]),
    "utf-16 with a BOM": (LEDGER.encode("utf-16"),
                          ["contacts.csv:1:1: the ledger is UTF-16 text, but the encoding is utf-8",
                           'hint: save it as "CSV UTF-8", or set `encoding: utf-16` in cadence.yaml']),
    "utf-16 without a BOM": (LEDGER.encode("utf-16-le"),
                             ["contacts.csv:1:2: NUL byte in the ledger",
                              'hint: the file looks binary or UTF-16; save it as "CSV UTF-8"']),
    "unclosed quote": ((HEADER + 'c1,"Ann Lind,ann@example.com,,p,2026-11-01\n' + ROW2 + "\n").encode(),
                       ["contacts.csv:2:4: quote opened here is never closed",
                        'hint: close the quote, or double it ("") to write a quote inside a quoted cell']),
    "duplicate header": (("id,name,email,name,playbook,started\n" + ROW1 + "\n").encode(),
                         ["contacts.csv:1:15: duplicate column 'name' (first at column 2)"]),
    "duplicate id": ((LEDGER + "c1,Cid Ek,cid@example.com,,p,2026-11-01\n").encode(),
                     ["contacts.csv:4:1: duplicate id 'c1' (first at line 2)",
                      "hint: every contact needs a unique `id`"]),
    "misspelt column": (LEDGER.replace("email", "emial", 1).encode(),
                        ["contacts.csv:1:9: unknown column 'emial' (did you mean 'email'?)"]),
    "misspelt state column": (LEDGER.replace("started", "statred").encode(),
                              ["contacts.csv:1:30: unknown column 'statred' (did you mean 'started'?)"]),
    "long row": ((HEADER + ROW1 + ",Stockholm\n").encode(),
                 ["contacts.csv:2:55: row has 7 cells, the header has 6",
                  "hint: a cell holding the delimiter ',' must be quoted"]),
    "impossible date": ((HEADER + ROW1.replace("2026-11-01", "2026-02-30") + "\n").encode(),
                        ["contacts.csv:2:44: impossible date '2026-02-30'"]),
    "ambiguous date": ((HEADER + ROW1.replace("2026-11-01", "03/04/2026") + "\n").encode(),
                       ["contacts.csv:2:44: ambiguous date '03/04/2026'",
                        "hint: write dates as YYYY-MM-DD (ISO 8601), e.g. 2026-11-22"]),
    "excel serial date": ((HEADER + ROW1.replace("2026-11-01", "46327") + "\n").encode(),
                          ["contacts.csv:2:44: '46327' looks like a spreadsheet serial number, not a date",
                           "hint: format the column as text or as a YYYY-MM-DD date before saving"]),
    "empty file": (b"", ["contacts.csv:1:1: the ledger is empty",
                         "hint: it needs a header line with an `id` column"]),
    "only a BOM": (codecs.BOM_UTF8, ["contacts.csv:1:1: the ledger is empty"]),
    "NUL byte": ((HEADER + "c1,Ann\x00Lind,ann@example.com,,p,2026-11-01\n").encode(),
                 ["contacts.csv:2:7: NUL byte in the ledger"]),
    "no id column": (b"name,email\nAnn,ann@example.com\n", ["contacts.csv:1:1: no 'id' column in the header"]),
    "unknown status": ((HEADER[:-1] + ",status\n" + ROW1 + ",activ\n").encode(),
                       ["contacts.csv:2:55: unknown status 'activ' (did you mean 'active'?)"]),
    "unknown channel": ((HEADER[:-1] + ",optout\n" + ROW1 + ",fax\n").encode(),
                        ["contacts.csv:2:55: unknown channel 'fax'"]),
    "unknown playbook": (LEDGER.replace(",p,", ",q,", 1).encode(),
                         ["contacts.csv:2:42: contact 'c1' follows playbook 'q', which no file has"]),
}


@pytest.mark.parametrize("case", CSV_REFUSED, ids=list(CSV_REFUSED))
def test_bad_csv_ledger(in_book, case):
    ledger, lines = CSV_REFUSED[case]
    root = in_book({"contacts.csv": ledger})
    refused(root, 65, *lines)
    refused(root, 65, *lines, args=("due", "--today", TODAY))
    refused(root, 65, *lines, args=("reply", "c1", "--today", TODAY))


def test_every_bad_cell_is_reported_at_once(in_book):
    ledger = (HEADER[:-1] + ",status\n" + ROW1.replace("2026-11-01", "2026-13-01") + ",active\n"
              + ROW2.replace("2026-11-01", "45000").replace("bob@", "bob at ") + ",wom\n")
    stderr = refused(in_book({"contacts.csv": ledger}), 65)
    assert [line.split(": ", 1)[0] for line in stderr.splitlines() if not line.startswith(" ")] == [
        "contacts.csv:2:44", "contacts.csv:3:13", "contacts.csv:3:35", "contacts.csv:3:41"]


def test_an_unclosed_quote_reports_where_it_opened_not_the_end(in_book):
    rows = "".join(f"c{i},Name {i},n{i}@example.com,,p,2026-11-01\n" for i in range(3, 400))
    ledger = HEADER + ROW1 + "\n" + 'c2,"Bob Berg,bob@example.com,,p,2026-11-01\n' + rows
    refused(in_book({"contacts.csv": ledger}), 65, "contacts.csv:3:4: quote opened here is never closed")


# --- the ledger (YAML) ------------------------------------------------------------------------

YAML_LEDGER = """\
# Contacts, typed by hand
- id: c1
  name: NO
  email: ann@example.com
  phone: 0671234567
  mobile: +380501234567
  meeting: 1:20
  on: yes
  octal: 0o17
  size: 1e3
  playbook: p
  started: 2026-11-01
"""


def test_yaml_one_one_look_alikes_stay_text(in_book):
    template = ("Subject: Hello {{ contact.name }}\n\n{{ contact.phone }} {{ contact.mobile }} "
                "{{ contact.meeting }} {{ contact['on'] }} {{ contact.octal }} {{ contact.size }}\n")
    root = in_book({"contacts.csv": None, "contacts.yaml": YAML_LEDGER, "templates/hello.j2": template})
    ran(root)
    message = draft(root, "c1--decide-1.eml")
    assert message["Subject"] == "Hello NO"
    assert message.get_content() == "0671234567 +380501234567 1:20 yes 0o17 1e3\r\n"
    assert read(root, "contacts.yaml").decode() == YAML_LEDGER + (
        "  touches: 1\n  last_touch: 2026-11-02\n  last_channel: email\n"
        "  last_step: decide-1\n  next_due: 2026-11-04\n")


def _alias_bomb() -> str:
    lines = ["- id: c1", '  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 25):
        lines.append(f"  a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


YAML_REFUSED = {
    "duplicate key": ("- id: c1\n  name: Ann\n  name: Bob\n",
                      ["contacts.yaml:3:3: duplicate key 'name' (first at line 2)"]),
    "tab indentation": ("- id: c1\n\tname: Ann\n",
                        ["contacts.yaml:2:1: found a tab character that violates indentation",
                         "hint: indent with spaces: YAML does not allow tabs there"]),
    "deep nesting": ("- id: c1\n  x: " + "[" * 50_000 + "\n",
                     ["contacts.yaml:2:70: the ledger nests deeper than 64 levels"]),
    "deep block nesting": ("- " * 50_000 + "id: c1\n",
                           ["contacts.yaml:1:131: the ledger nests deeper than 64 levels"]),
    "alias bomb": (_alias_bomb(), ["contacts.yaml:2:7: anchors and aliases are not supported in the ledger"]),
    "python tag": ("- id: c1\n  name: !!python/object/apply:os.system ['touch pwned']\n",
                   ["contacts.yaml:2:9: tag '!!python/object/apply:os.system' is not supported in the ledger"]),
    "not a list": ("id: c1\nname: Ann\n", ["contacts.yaml:1:1: the ledger must be a list of contacts"]),
    "duplicate id": ("- id: c1\n- id: 'c1'\n", ["contacts.yaml:2:7: duplicate id 'c1' (first at line 1)"]),
    "misspelt key": ("- id: c1\n  emial: ann@example.com\n",
                     ["contacts.yaml:2:3: unknown column 'emial' (did you mean 'email'?)"]),
    "impossible date": ("- id: c1\n  playbook: p\n  started: 2026-02-30\n",
                        ["contacts.yaml:3:12: impossible date '2026-02-30'"]),
}


@pytest.mark.parametrize("case", YAML_REFUSED, ids=list(YAML_REFUSED))
def test_bad_yaml_ledger(in_book, case):
    text, lines = YAML_REFUSED[case]
    root = in_book({"contacts.csv": None, "contacts.yaml": text})
    refused(root, 65, *lines)
    assert not os.path.exists(os.path.join(root, "pwned"))


# --- playbooks --------------------------------------------------------------------------------

PB = "playbooks/p.yaml"


def _playbook(old: str, new: str) -> str:
    from smallbook import PLAYBOOK

    assert old in PLAYBOOK
    return PLAYBOOK.replace(old, new, 1)


PLAYBOOK_REFUSED = {
    "python object tag": (_playbook("channels: [email, call, letter]",
                                    "channels: !!python/object/apply:os.system ['touch pwned']"),
                          ["playbooks/p.yaml:2:11: tags are not allowed: '!!python/object/apply:os.system'"]),
    "python name tag": (_playbook("description: A small", "description: !!python/name:os.system A small"),
                        ["playbooks/p.yaml:1:14: tags are not allowed: '!!python/name:os.system'"]),
    "unknown key": (_playbook("per_week: 3", "per_weak: 3"),
                    ["playbooks/p.yaml:5:3: unknown key 'per_weak' (did you mean 'per_week'?)"]),
    "unknown top key": (_playbook("channels:", "chanels:"),
                        ["playbooks/p.yaml:2:1: unknown key 'chanels' (did you mean 'channels'?)"]),
    "unknown channel": (_playbook("channel: call, template: call", "channel: fax, template: call"),
                        ["playbooks/p.yaml:11:34: unknown channel 'fax'"]),
    "negative duration": (_playbook("until: 30 days", "until: -30 days"),
                          ["playbooks/p.yaml:8:12: `until`: a duration cannot be negative: '-30 days'"]),
    "textual duration": (_playbook("at: 1 day", "at: soon"),
                         ["playbooks/p.yaml:10:14: `at`: expected a duration such as '3 days' or '2w', got 'soon'"]),
    "zero period": (_playbook("every: 1 week", "every: 0 days"),
                    ["playbooks/p.yaml:13:12: `every` cannot be zero"]),
    "duplicate phase": (_playbook("name: keep", "name: decide"),
                        ["playbooks/p.yaml:12:11: duplicate phase 'decide'",
                         "hint: the first is at line 7"]),
    "duplicate step id": (_playbook("{at: 1 day,", "{id: hi, at: 1 day,").replace("{after: 2 days,", "{id: hi, after: 2 days,"),
                          ["playbooks/p.yaml:11:14: duplicate step id 'hi' (first at line 10)"]),
    "if does not compile": (_playbook("phases:", "rules:\n  - if: \"contact.age >=\"\n    channel: letter\nphases:"),
                            ["playbooks/p.yaml:7:9: invalid expression in `if`"]),
    "yes for true": (_playbook("limits:", "calendar: {business_days: yes}\nlimits:"),
                     ["playbooks/p.yaml:3:27: `business_days` must be true or false, got 'yes'"]),
    "template that no file has": (_playbook("template: call}", "template: cal}"),
                                  ["playbooks/p.yaml:11:50: template 'cal' not found"]),
    "template outside the folder": (_playbook("template: call}", "template: ../contacts}"),
                                    ["playbooks/p.yaml:11:50: template '../contacts' not found"]),
    "template by absolute path": (_playbook("template: call}", "template: /etc/passwd}"),
                                  ["playbooks/p.yaml:11:50: template '/etc/passwd' not found"]),
    "alias bomb": ("a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]\n" for n in range(1, 12)),
        ["the file is too large or uses too many aliases"]),
    "deep nesting": ("phases: " + "[" * 50_000 + "\n", ["playbooks/p.yaml:1:", "nesting too deep"]),
    "not yaml": ("phases: [\n", ["playbooks/p.yaml:2:1: invalid YAML"]),
    "empty": ("", ["playbooks/p.yaml: the playbook is empty"]),
}


@pytest.mark.parametrize("case", PLAYBOOK_REFUSED, ids=list(PLAYBOOK_REFUSED))
def test_bad_playbook(in_book, case):
    text, lines = PLAYBOOK_REFUSED[case]
    root = in_book({PB: text})
    refused(root, 78, *lines)
    refused(root, 78, *lines, args=("check",))
    assert not os.path.exists(os.path.join(root, "pwned"))


def test_an_if_that_fails_for_a_contact_is_78_and_names_the_contact(in_book):
    rule = "rules:\n  - if: \"contact.name | int + {}\"\n    channel: letter\nphases:"
    refused(in_book({PB: _playbook("phases:", rule)}), 78,
            "playbooks/p.yaml:7:5: the `if` expression failed for contact 'c1'")


@pytest.mark.parametrize("expr", [
    "contact.__class__.__mro__[1].__subclasses__()",
    "contact.__init__.__globals__",
    "''.__class__.__name__ == 'str'",
])
def test_an_if_cannot_escape_the_sandbox(in_book, expr):
    rule = f"rules:\n  - if: \"{expr}\"\n    channel: letter\nphases:"
    stderr = refused(in_book({PB: _playbook("phases:", rule)}), 78, "playbooks/p.yaml:7:5:")
    assert "unsafe" in stderr


# --- templates --------------------------------------------------------------------------------

HELLO = "templates/hello.j2"


@pytest.mark.parametrize("case, template, lines", [
    ("undefined variable", "Subject: Hi\n\nHello\n{{ contact.nickname }}\n",
     ["templates/hello.j2:4:", "nickname", "(contact c1, step decide-1)"]),
    ("undefined name", "Subject: Hi\n\n{{ customer.name }}\n", ["templates/hello.j2:3:", "customer"]),
    ("syntax error", "Subject: Hi\n\n{% if %}\n", ["templates/hello.j2:3:"]),
    ("syntax error in the subject", "Subject: Hi {{\n\nbody\n", ["templates/hello.j2:1:"]),
    ("unclosed block", "Subject: Hi\n\n{% for x in history %}\n", ["templates/hello.j2:"]),
    ("__class__", "Subject: Hi\n\n{{ contact.__class__ }}\n", ["templates/hello.j2:3:", "unsafe"]),
    ("__mro__", "Subject: Hi\n\n{{ ''.__class__.__mro__ }}\n", ["templates/hello.j2:3:", "unsafe"]),
    ("__subclasses__", "Subject: Hi\n\n{{ ().__class__.__base__.__subclasses__() }}\n",
     ["templates/hello.j2:3:", "unsafe"]),
    ("__globals__", "Subject: Hi\n\n{{ touch.as_json.__globals__ }}\n", ["templates/hello.j2:3:", "unsafe"]),
    ("format string", "Subject: Hi\n\n{{ '{0.__class__}'.format(contact) }}\n", ["templates/hello.j2:3:", "unsafe"]),
    ("include ..", "Subject: Hi\n\n{% include '../contacts.csv' %}\n", ["templates/hello.j2:3:"]),
    ("include an absolute path", "Subject: Hi\n\n{% include '/etc/passwd' %}\n", ["templates/hello.j2:3:"]),
    ("email without a subject", "Hello {{ contact.name }}\n", ["templates/hello.j2:1:", "Subject:"]),
])
def test_bad_template(in_book, case, template, lines):
    root = in_book({HELLO: template})
    stderr = refused(root, 78, *lines)
    assert "root:" not in stderr  # nothing from /etc/passwd


@pytest.mark.parametrize("name, words", [
    ("../contacts.csv", "included file '../contacts.csv' is not a template: only .j2 files in "
                        "the templates folder are"),
    ("../cadence.j2", "included template '../cadence.j2' not found (includes are looked up "
                      "inside the templates folder)"),
])
def test_an_include_that_leaves_the_folder_says_not_found(in_book, name, words):
    root = in_book({HELLO: f"Subject: Hi\n\n{{% include '{name}' %}}\n"})
    with open(os.path.join(root, "cadence.j2"), "w") as f:
        f.write("a .j2 file beside the templates folder\n")
    stderr = refused(root, 78, f"templates/hello.j2:3: {words}")
    assert "beside the templates folder" not in stderr


@pytest.mark.parametrize("fallback", [False, True])
def test_a_symlink_out_of_the_templates_folder_is_not_a_template(in_book, tmp_path, fallback):
    """Refused by name, not passed over: a fallback variant (`hello.call.j2`'s `hello.j2`,
    here the plain file beside an email one) would otherwise stand in for it unseen."""
    secret = tmp_path / "secret.txt"
    secret.write_text("Subject: the secret\n\nTHE SECRET\n")
    root = in_book({HELLO: "Subject: Local\n\nlocal\n" if fallback else None})
    linked = HELLO.replace(".j2", ".email.j2") if fallback else HELLO
    os.symlink(secret, os.path.join(root, linked))
    stderr = refused(root, 78, f"{linked}: a link out of the templates folder is not read")
    assert "THE SECRET" not in stderr


def test_an_included_symlink_out_of_the_folder_is_refused(in_book, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("THE SECRET\n")
    root = in_book({HELLO: "Subject: Hi\n\n{% include 'piece.j2' %}\n"})
    os.symlink(secret, os.path.join(root, "templates", "piece.j2"))
    stderr = refused(root, 78, "templates/piece.j2: a link out of the templates folder is not "
                               "read")
    assert "THE SECRET" not in stderr


def test_an_include_out_of_the_folder_is_refused(in_book):
    root = in_book({HELLO: "Subject: Hi\n\n{% include '../cadence.yaml' %}\n"})
    stderr = refused(root, 78, "templates/hello.j2:3:")
    assert "sender" not in stderr


def test_a_symlink_inside_the_templates_folder_works(in_book):
    root = in_book({"templates/shared/hello.j2": "Subject: Shared {{ contact.name }}\n\nhi\n", HELLO: None})
    os.symlink(os.path.join("shared", "hello.j2"), os.path.join(root, HELLO))
    ran(root)
    assert draft(root, "c1--decide-1.eml")["Subject"] == "Shared Ann Lind"


@pytest.mark.parametrize("value", ["{{7*7}}", "{% raw %}", "{{ sender.email }}", "{#", "${HOME}"])
def test_contact_data_is_rendered_literally(in_book, value):
    ledger = HEADER + f'c1,"{value}",ann@example.com,,p,2026-11-01\n'
    root = in_book({"contacts.csv": ledger})
    ran(root)
    message = draft(root, "c1--decide-1.eml")
    assert message["Subject"] == f"Hello {value}"
    assert message.get_content() == f"Hello {value},\r\nthis is decide-1.\r\n"


# --- identities: file names and headers from ledger data ----------------------------------------

IDS = ["../../x", "..", ".", "CON", "con.txt", "nul", "a/b", "a\\b", "a_b", "A/B", ".hidden",
       "x" * 300, "ок", "a:b", "a*b?", "-rf", "c\x7f"]


def test_contact_ids_make_safe_distinct_draft_names(in_book, tmp_path):
    ledger = HEADER + "".join(f'"{i}",Ann,ann@example.com,,p,2026-11-01\n' for i in IDS)
    root = in_book({"contacts.csv": ledger})
    before = snapshot(root)
    result = ran(root, ("run", "--today", TODAY, "--json"))
    drafted = json.loads(result.stdout)["drafted"]
    assert sorted(d["contact"] for d in drafted) == sorted(IDS)
    paths = [d["path"] for d in drafted]
    assert len(set(paths)) == len(IDS)
    for path in paths:
        folder, name = path.rsplit("/", 1)
        assert folder == f"drafts/{TODAY}"
        assert not name.startswith(".") and len(name.encode()) <= 255
        assert os.path.realpath(os.path.join(root, path)) == os.path.join(
            os.path.realpath(root), "drafts", TODAY, name)
    # nothing written outside drafts/<today>/ but the journal and the ledger
    written = [k for k in changed(before, snapshot(root))
               if not k.startswith(f"drafts/{TODAY}/")]
    assert written == ["contacts.csv", "history.csv"]
    assert sorted(os.listdir(tmp_path)) == ["book"]
    assert sorted(os.listdir(os.path.join(root, "drafts"))) == [TODAY]


def test_draft_names_stay_distinct_on_a_case_insensitive_disk(in_book):
    ledger = HEADER + "ann,Ann,ann@example.com,,p,2026-11-01\nAnn,Ann,ann@example.com,,p,2026-11-01\n"
    root = in_book({"contacts.csv": ledger})
    paths = [d["path"] for d in json.loads(ran(root, ("run", "--today", TODAY, "--json")).stdout)["drafted"]]
    assert len({p.casefold() for p in paths}) == 2


def test_an_empty_id_is_refused(in_book):
    refused(in_book({"contacts.csv": HEADER + ",Ann,ann@example.com,,p,2026-11-01\n"}), 65,
            "contacts.csv:2:1: empty id")


@pytest.mark.parametrize("column, value", [
    ("name", "Ann\r\nBcc: eve@evil.example"),
    ("name", "Ann\nBcc: eve@evil.example"),
    ("name", "Ann\rBcc: eve@evil.example"),
])
def test_line_breaks_in_ledger_data_never_become_headers(in_book, column, value):
    cells = {"id": "c1", "name": "Ann"}
    cells[column] = value
    ledger = HEADER + f'"{cells["id"]}","{cells["name"]}",ann@example.com,,p,2026-11-01\n'
    root = in_book({"contacts.csv": ledger})
    result = ran(root, ("run", "--today", TODAY, "--json"))
    (item,) = json.loads(result.stdout)["drafted"]
    data = read(root, item["path"])
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert message["Bcc"] is None
    header = data.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in header and b"\rBcc:" not in header
    assert all(line.split(b":", 1)[0] in (
        b"From", b"To", b"Subject", b"Date", b"Message-ID", b"X-Unsent", b"X-Cadence-Contact",
        b"X-Cadence-Playbook", b"X-Cadence-Step", b"Content-Type", b"Content-Transfer-Encoding",
        b"MIME-Version") or line[:1] in (b" ", b"\t") for line in header.split(b"\r\n")), header


def test_an_id_with_a_line_break_is_refused(in_book):
    """The journal's rows are one line each: such an id would never find its rows again."""
    root = in_book({"contacts.csv": HEADER + '"c1\r\nBcc: eve@evil.example",Ann,ann@example.com,'
                                             ',p,2026-11-01\n'})
    refused(root, 65, "contacts.csv:2:1: id 'c1\\r\\nBcc: eve@evil.example' holds a line break")


def test_line_breaks_in_a_call_sheet_stay_in_their_line(in_book):
    ledger = HEADER + 'c1,"Ann\n# Injected heading",ann@example.com,+46701234567,p,2026-11-01\n'
    root = in_book({"contacts.csv": ledger})
    ran(root)
    ran(root, ("run", "--today", "2026-11-04"))
    sheet = read(root, "drafts/2026-11-04/c1--decide-2.md").decode()
    head = sheet.split("## Script")[0]  # the sheet's own lines; the script is the template's
    assert head.splitlines()[0] == "# Call: Ann \\# Injected heading"
    assert "\n# Injected" not in head


def test_ledger_data_in_a_letter_and_a_call_sheet_is_text_not_markdown(in_book):
    """README "Ledger data shown as text": a name or an address line that would be a
    heading, a list, a link, emphasis or HTML in Markdown is escaped, as in index.md."""
    ledger = ("id,name,email,phone,address,playbook,started,company\n"
              'c1,"Åsa *Öberg* [CEO](http://evil.example) <b>x</b>",,+46701234567,'
              '"# Storgatan 1\n- 111 22 Stockholm\n1. Sverige\n---",p,2026-11-01,"# AB"\n')
    from smallbook import PLAYBOOK

    letters = PLAYBOOK.replace("{at: 1 day, channel: email, template: hello}",
                               "{at: 1 day, channel: letter, template: hello}")
    root = in_book({"contacts.csv": ledger, "playbooks/p.yaml": letters,
                    "templates/hello.letter.j2": "Hello.\n"})
    ran(root)
    letter = read(root, "drafts/2026-11-02/c1--decide-1.md").decode()
    assert ("Åsa \\*Öberg\\* \\[CEO\\](http://evil.example) \\<b\\>x\\</b\\>  \n"
            "\\# Storgatan 1  \n\\- 111 22 Stockholm  \n1\\. Sverige  \n\\---") in letter
    ran(root, ("run", "--today", "2026-11-04"))
    sheet = read(root, "drafts/2026-11-04/c1--decide-2.md").decode().split("## Script")[0]
    assert sheet.startswith("# Call: Åsa \\*Öberg\\* \\[CEO\\]") and "- company: \\# AB" in sheet


@pytest.mark.parametrize("value", ["ann@example.com\r\nBcc: eve@evil.example",
                                   "ann@example.com, eve@evil.example", "Ann <ann@example.com>"])
def test_an_email_cell_holds_one_address(in_book, value):
    ledger = HEADER + f'c1,Ann,"{value}",,p,2026-11-01\n'
    refused(in_book({"contacts.csv": ledger}), 65, "contacts.csv:2:8: not an email address")


def test_a_sender_with_line_breaks_never_becomes_a_header(in_book):
    config = 'sender:\n  name: "Eva\\r\\nBcc: eve@evil.example"\n  email: eva@konsult.example\n'
    root = in_book({"cadence.yaml": config})
    ran(root)
    data = read(root, f"drafts/{TODAY}/c1--decide-1.eml")
    header = data.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in header and b"\rBcc:" not in header
    assert email.message_from_bytes(data, policy=email.policy.default)["Bcc"] is None


def test_a_bad_journal_is_refused_and_nothing_written(in_book):
    journal = JOURNAL + "2026-11-01,c1,touched,p,decide-1,email,hello,\n"
    refused(in_book({"history.csv": journal}), 65, "history.csv:2:", "unknown event 'touched'")


JOURNAL_PLACES = {
    # (the journal's text after its header, where the problem is, message)
    "reordered columns: the date's own cell": (
        "contact,date,event,playbook,step,channel,template,note\nc1,01/11/2026,note,p,,,,\n",
        "history.csv:2:4", "expected a date as YYYY-MM-DD"),
    "a channel after a quoted cell": (
        JOURNAL + '2026-11-01,"c1",touch,"p,q",,fax,,\n', "history.csv:2:30", "unknown channel"),
    "text after a closing quote, on a record's second line": (
        JOURNAL + '2026-11-01,c1,note,p,,,,"two\nlines" x\n', "history.csv:3:7", "unreadable row"),
    "a quote inside an unquoted cell is text": (
        JOURNAL + '2026-11-01,c1,touch,p "q,,fax,,\n', "history.csv:2:27", "unknown channel"),
    "a quote never closed": (JOURNAL + '2026-11-01,c1,note,p,,,,"open\n', "history.csv:2:25",
                             "unreadable row"),
    "one cell too many": (JOURNAL + "2026-11-01,c1,note,p,,,,a,b\n", "history.csv:2:27",
                          "row has 9 cells, the header has 8"),
    "a non-UTF-8 byte after non-ASCII text": (
        JOURNAL + "2026-11-01,c1,note,p,,,,Åsa \xff\n", "history.csv:2:29",
        "the journal is not UTF-8 text"),
}


@pytest.mark.parametrize("text, where, message", JOURNAL_PLACES.values(), ids=JOURNAL_PLACES.keys())
def test_a_bad_journal_row_is_named_by_its_line_and_column(in_book, text, where, message):
    data = text.encode("utf-8") if "\xff" not in text else \
        text.split("\xff")[0].encode() + b"\xff" + text.split("\xff")[1].encode()
    root = in_book({})
    with open(os.path.join(root, "history.csv"), "wb") as f:
        f.write(data)
    refused(root, 65, f"{where}: {message}")


def test_a_playbook_or_step_named_across_a_line_break_is_refused(in_book):
    """The journal's rows are one line each: a playbook or step whose name holds a line break
    was journaled folded, never matched its contact again, and every run added the same row
    again (SPEC 8: a second run changes nothing). Refused (78), nothing written."""
    from smallbook import PLAYBOOK

    root = in_book({"playbooks/p.yaml": PLAYBOOK.replace(
        "{after: 2 days, channel: call, template: call}",
        '{id: "s1\\r\\nFAKE LINE", after: 2 days, channel: call, template: call}')})
    refused(root, 78, "playbooks/p.yaml:", "step id 's1\\r\\nFAKE LINE' holds a line break")
    root = in_book({})
    os.rename(os.path.join(root, "playbooks", "p.yaml"), os.path.join(root, "playbooks", "p\n.yaml"))
    refused(root, 78, "playbook name 'p\\n' holds a line break")


@pytest.mark.parametrize("inside", [True, False])
def test_a_missing_template_is_looked_for_in_the_configured_folder(tmp_path, monkeypatch, inside):
    """`templates:` set in cadence.yaml: the message names that folder, not `templates/`."""
    from smallbook import CONFIG

    shared = tmp_path / "shared-templates"
    root = build(tmp_path / "book", {
        "cadence.yaml": CONFIG + ("templates: letters/tpl\n" if inside else f"templates: {shared}\n"),
        "templates/hello.j2": None, "templates/call.j2": None, "templates/call.email.j2": None})
    folder = os.path.join(root, "letters", "tpl") if inside else str(shared)
    os.makedirs(folder)
    with open(os.path.join(folder, "call.j2"), "w", encoding="utf-8") as handle:
        handle.write("Call {{ contact.name }}.\n")
    monkeypatch.chdir(root)
    result = invoke("check")
    assert result.exit_code == 78, result.output
    named = "letters/tpl" if inside else str(shared)
    assert f"template 'hello' not found (looked for {named}/hello.email.j2 and {named}/hello.j2)" \
        in result.stderr
