"""`cadence add`: a contact appended to the ledger in the file's own format. Every case checks
the bytes: the file as it was, then only the new row (or list item)."""
from __future__ import annotations

import codecs
import json
import os

import pytest

from cadence.commands.add import new_id
from smallbook import CONFIG, TODAY, build, invoke, snapshot
from test_day_commands import ledger, ok

BOM = codecs.BOM_UTF8
CSV = [
    # (case, ledger bytes, arguments, the bytes added)
    ("comma, LF",
     b"id,name,email,phone,playbook,started\nc1,Ann Lind,ann@example.com,+4670,p,2026-11-01\n",
     ["--name", "Bob Berg", "--email", "bob@example.com", "--playbook", "p"],
     b"c2,Bob Berg,bob@example.com,,p,\n"),
    ("semicolon, BOM and CRLF (Excel)",
     BOM + b"id;name;email;company\r\nc001;Ann Lind;ann@example.com;Lind AB\r\n",
     ["--name", "\u00c5sa \u00d6berg", "company=\u00d6berg & Co; Ltd"],
     "c002;\u00c5sa \u00d6berg;;\"\u00d6berg & Co; Ltd\"\r\n".encode("utf-8")),
    ("every cell quoted: so is the new row",
     b'"id","name","email"\n"a1","Ann Lind","ann@example.com"\n',
     ["--name", "Bob", "--email", "bob@example.com"],
     b'"a2","Bob","bob@example.com"\n'),
    ("a cell that holds the delimiter or a quote is quoted",
     b"id,name,email\nann,Ann Lind,ann@example.com\n",
     ["--name", 'Dan "D" Ek, Jr.', "--id", "dan"],
     b'dan,"Dan ""D"" Ek, Jr.",\n'),
    ("a tab-separated file",
     b"id\tname\tphone\nann\tAnn\t0671234567\n",
     ["--name", "Boris", "--phone", "0501234567"],
     b"boris\tBoris\t0501234567\n"),
]


@pytest.mark.parametrize("case, data, args, added", CSV, ids=[c[0] for c in CSV])
def test_add_to_a_csv_ledger(tmp_path, case, data, args, added):
    root = build(tmp_path / "book", {"contacts.csv": data, "history.csv": None})
    result = invoke("-C", root, "add", *args)
    assert result.exit_code == 0, result.output
    assert open(f"{root}/contacts.csv", "rb").read() == data + added
    journal = tmp_path / "book" / "history.csv"
    assert not journal.exists() or journal.read_bytes() == b""  # nothing journaled


def test_a_file_without_a_final_line_break_gets_none_after_the_new_row(tmp_path):
    data = b"id,name\r\nann,Ann"
    root = build(tmp_path / "book", {"contacts.csv": data})
    ok("-C", root, "add", "--name", "Bob", "--id", "bob")
    assert open(f"{root}/contacts.csv", "rb").read() == b"id,name\r\nann,Ann\r\nbob,Bob"


def test_blank_lines_at_the_end_stay_at_the_end(tmp_path):
    root = build(tmp_path / "book", {"contacts.csv": b"id,name\nann,Ann\n\n\n"})
    ok("-C", root, "add", "--name", "Bob", "--id", "bob")
    assert open(f"{root}/contacts.csv", "rb").read() == b"id,name\nann,Ann\nbob,Bob\n\n\n"


def test_a_spreadsheets_empty_rows_at_the_end_stay_at_the_end(tmp_path):
    """A sheet exported with empty rows after the last contact (`;;` and `"";""`): the new
    contact goes after the last contact, before them."""
    data = b'id;name;email\r\nann;Ann;ann@example.com\r\n;;\r\n"";"";\r\n'
    root = build(tmp_path / "book", {"contacts.csv": data})
    ok("-C", root, "add", "--name", "Bob", "--id", "bob")
    assert open(f"{root}/contacts.csv", "rb").read() == (
        b'id;name;email\r\nann;Ann;ann@example.com\r\nbob;Bob;\r\n;;\r\n"";"";\r\n')


def test_a_ledger_in_another_encoding(tmp_path):
    data = "id,name\nann,\u0410\u043d\u043d\u0430\n".encode("cp1251")
    root = build(tmp_path / "book", {"contacts.csv": data,
                                     "cadence.yaml": CONFIG + "encoding: cp1251\n"})
    ok("-C", root, "add", "--name", "\u0411\u043e\u0440\u0438\u0441", "--id", "boris")
    assert open(f"{root}/contacts.csv", "rb").read() == \
        data + "boris,\u0411\u043e\u0440\u0438\u0441\n".encode("cp1251")
    before = snapshot(root)
    result = invoke("-C", root, "add", "--name", "\u674e\u96f7", "--id", "li")
    assert result.exit_code == 73 and "has no encoding in cp1251" in result.stderr
    assert snapshot(root) == before


YAML = [
    ("block items with comments: the new item like the last",
     "# contacts\n\n# Ann, met at the fair\n- id: ann\n  name: Ann Lind   # the founder\n"
     "  email: ann@example.com\n  country: SE\n  playbook: p\n\n# the end of the list\n",
     ["--name", "Bob Berg", "--phone", "0671234567", "--playbook", "p", "country=NO"],
     # the ledger's keys in its order, then a key it has not used yet
     "- id: bob-berg\n  name: Bob Berg\n  country: NO\n  playbook: p\n  phone: 0671234567\n",
     "after the last item"),
    ("a list indented under nothing but spaces",
     "  - id: ann\n    name: Ann\n",
     ["--name", "Bob: the second"],
     '  - id: bob-the-second\n    name: "Bob: the second"\n', "at the end"),
    ("flow items", "- {id: ann, name: Ann}\n", ["--name", "Bob", "--id", "b1"],
     "- {id: b1, name: Bob}\n", "at the end"),
    ("a flow list", "[{id: ann, name: Ann}]\n", ["--name", "Bob", "--id", "b1"],
     None, "[{id: ann, name: Ann}, {id: b1, name: Bob}]\n"),
    ("an empty file", "# no contacts yet\n", ["--name", "Bob", "--id", "b1"],
     "- id: b1\n  name: Bob\n", "at the end"),
]


@pytest.mark.parametrize("case, text, args, added, where", YAML, ids=[y[0] for y in YAML])
def test_add_to_a_yaml_ledger(tmp_path, case, text, args, added, where):
    root = build(tmp_path / "book", {"contacts.csv": None, "contacts.yaml": text,
                                     "cadence.yaml": CONFIG + "ledger: contacts.yaml\n"})
    ok("-C", root, "add", *args)
    now = open(f"{root}/contacts.yaml", encoding="utf-8").read()
    if added is None:
        assert now == where
    elif where == "at the end":
        assert now == text + added
    else:  # before the comment that follows the last item
        assert now == text.replace("\n\n# the end", "\n" + added + "\n# the end")
    assert ok("-C", root, "check").exit_code == 0


def test_the_new_contact_is_enrolled_by_the_next_run(tmp_path):
    root = build(tmp_path / "book")
    result = ok("-C", root, "add", "--name", "Cid Holm", "--email", "cid@example.com",
                "--playbook", "p", "started=")
    assert result.stdout == ("Added c3 (Cid Holm) to contacts.csv; the next `cadence run` "
                             "enrols it in p.\n")
    assert ledger(root)["c3"] == {"id": "c3", "name": "Cid Holm", "email": "cid@example.com",
                                  "phone": "", "playbook": "p", "started": ""}
    ok("-C", root, "run", "--today", TODAY)
    assert ledger(root)["c3"]["started"] == TODAY


def _c2_deleted(tmp_path) -> str:
    """The small book after a run, c2's row deleted from the sheet (its journal rows stay)."""
    root = build(tmp_path / "book")
    ok("-C", root, "run", "--today", TODAY)
    path = os.path.join(root, "contacts.csv")
    lines = open(path, encoding="utf-8").read().splitlines()
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(line for line in lines if not line.startswith("c2,")) + "\n")
    return root


def test_a_contact_deleted_and_added_back_is_restored_not_enrolled(tmp_path):
    """The journal still holds the id's rows: the next run restores its state from them
    (SPEC 9), and add says so instead of promising a new start."""
    root = _c2_deleted(tmp_path)
    result = ok("-C", root, "add", "--id", "c2", "--name", "Bob Berg", "--email",
                "bob@example.com", "--playbook", "p")
    assert result.stdout == (
        "Added c2 (Bob Berg) to contacts.csv; the journal has 2 rows for it: the next `cadence "
        "run` restores its state in p from them, not a new start.\n")
    run = ok("-C", root, "run", "--today", TODAY, "--json")
    assert "c2" not in [d["contact"] for d in json.loads(run.stdout)["drafted"]]
    assert ledger(root)["c2"]["last_step"] == "decide-1"


def test_a_cyrillic_name_gets_its_own_id_and_its_drafts(tmp_path):
    """Two contacts whose names have no Latin letters get two ids of their names (not
    `contact` and `contact-2`), which every command takes, as it takes made ids."""
    root = build(tmp_path / "book", {"contacts.csv": "id,name,email,playbook,started\n"
                                     "ann,Ann Lind,ann@example.com,p,2026-11-01\n"})
    for name, email in (("\u0411\u043e\u0440\u0438\u0441 \u041f\u0435\u0442\u0440\u0435\u043d\u043a\u043e", "b@example.com"),
                        ("\u0411\u043e\u0440\u0438\u0441 \u041f\u0435\u0442\u0440\u0435\u043d\u043a\u043e", "b2@example.com")):
        ok("-C", root, "add", "--name", name, "--email", email, "--playbook", "p",
           "started=2026-11-01")
    made = "\u0431\u043e\u0440\u0438\u0441-\u043f\u0435\u0442\u0440\u0435\u043d\u043a\u043e"
    assert sorted(ledger(root)) == ["ann", made, made + "-2"]
    ok("-C", root, "run", "--today", TODAY)
    drafted = sorted(os.listdir(os.path.join(root, "drafts", TODAY)))
    assert [n for n in drafted if n.startswith(made)] == [
        f"{made}--decide-1.eml", f"{made}-2--decide-1.eml"], drafted


def test_every_cell_is_checked_and_nothing_is_written(tmp_path):
    root = build(tmp_path / "book")
    before = snapshot(root)
    for args, code, text in (
            (["--name", "X", "started=2026-02-30"], 2, "started=: impossible date '2026-02-30'"),
            (["--name", "X", "--email", "x@"], 2, "--email: not an email address"),
            (["--name", "X", "--id", "c1"], 65, "already in the ledger (line 2)"),
            (["--name", "X", "birthday=03-17"], 2, "the ledger has no column 'birthday'"),
            (["--name", "X", "--playbook", "q"], 65, "no playbook named 'q'")):
        result = invoke("-C", root, "add", *args)
        assert (result.exit_code, text in result.stderr) == (code, True), result.output
    assert snapshot(root) == before


IDS = [
    # (case, name, ids taken, id made)
    ("numbered ids: the next number, zeros kept", "Dan", ["c001", "c038", "c002"], "c039"),
    ("numbered without zeros", "Dan", ["c1", "c2"], "c3"),
    ("ids of another shape: the name as a slug", "\u00c5sa \u00d6berg", ["ann", "bob"], "asa-oberg"),
    ("a slug already taken gets a number", "Ann Lind", ["ann-lind", "ann-lind-2"], "ann-lind-3"),
    ("a Cyrillic name keeps its letters, as a made id does", "\u0411\u043e\u0440\u0438\u0441 "
     "\u0413\u0440\u0438\u0433\u043e\u0440\u0454\u043d\u043a\u043e", ["ann"],
     "\u0431\u043e\u0440\u0438\u0441-\u0433\u0440\u0438\u0433\u043e\u0440\u0454\u043d\u043a\u043e"),
    ("a sharp s is kept, not spelt ss", "Anna Gro\u00df", [], "anna-gro\u00df"),
    ("a name typed with combining accents", "A\u030asa O\u0308berg", [], "asa-oberg"),
    ("Turkish dotted I", "\u0130lker \u015eahin", [], "ilker-sahin"),
    ("two Cyrillic names do not share an id", "\u0411\u043e\u0440\u0438\u0441", ["\u0431\u043e\u0440\u0438\u0441"],
     "\u0431\u043e\u0440\u0438\u0441-2"),
    ("no letters in the name: the email's part before @", "???", ["ann"], "dan-ek"),
    ("nothing to make it from", "", ["ann"], "contact"),
    ("two prefixes: not a series", "Dan Ek", ["a1", "b2"], "dan-ek"),
    ("an empty ledger", "Dan Ek", [], "dan-ek"),
    ("a number of thousands of digits is no series", "Dan Ek", ["c1", "c" + "1" * 5000],
     "dan-ek"),
]


@pytest.mark.parametrize("case, name, taken, made", IDS, ids=[i[0] for i in IDS])
def test_new_id(case, name, taken, made):
    assert new_id(name, taken, "Dan.Ek@example.com" if name == "???" else "") == made


@pytest.mark.parametrize("name, taken, known, made", [
    ("Dan", ["c1", "c3"], ["c4", "c5", "x"], "c6"),  # the journal's ids: a deleted contact's
    ("Ann Lind", ["bob"], ["ann-lind"], "ann-lind-2"),
    # as it looks, in either Unicode form: the journal's id in NFD (и and a breve)
    ("\u0419\u043e\u0445\u0430\u043d", ["bob"], ["\u0438\u0306\u043e\u0445\u0430\u043d"],
     "\u0439\u043e\u0445\u0430\u043d-2"),
])
def test_a_made_id_is_none_the_journal_knows(name, taken, known, made):
    assert new_id(name, taken, "", known) == made


def test_a_new_person_never_takes_a_deleted_contacts_id(tmp_path):
    """c2 deleted from the sheet keeps its journal rows; `add` without --id makes c3,
    which the next run enrols."""
    root = _c2_deleted(tmp_path)
    result = ok("-C", root, "add", "--name", "Cid Holm", "--email", "cid@example.com",
                "--playbook", "p")
    assert result.stdout == ("Added c3 (Cid Holm) to contacts.csv; the next `cadence run` "
                             "enrols it in p.\n")


def test_adding_an_email_the_ledger_has_says_so_and_adds(tmp_path):
    """Two people may share an address (info@), so the row is added; one person typed in
    twice would get each touch twice, so `add` names the contact that has it already."""
    root = build(tmp_path)
    result = invoke("-C", root, "add", "--name", "Ann Lind", "--email", "ANN@example.com")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Added c3 (Ann Lind) to contacts.csv.",
        "Note: c1 has the same email; if it is the same person, each touch would go twice "
        "(delete one row; `cadence check` warns of it as same-email)."]
    other = invoke("-C", root, "add", "--name", "Eve Holm", "--email", "eve@example.com")
    assert other.stdout.splitlines() == ["Added c4 (Eve Holm) to contacts.csv."]
