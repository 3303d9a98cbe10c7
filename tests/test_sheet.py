"""The user's own spreadsheet as it is (README "Start from your own spreadsheet", "The ledger:
mapping"; SPEC section 2 extended): the `ledger:` mapping, dates in the sheet's format, ids made
once, the default playbook, and `cadence init --from` on real-shaped exports.

The exports under tests/sheets/ are shaped as the programs write them: a Swedish Excel "CSV
(semicolon)" save (UTF-8 BOM, `;`, CRLF between rows, LF inside a quoted cell, dd.mm.yyyy), a
Google Sheets download (`,`, CRLF, M/D/YYYY), and a YAML list with a comment.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date

import pytest

from cadence.guess import described, guess_sheet
from cadence.ledger import dump_ledger, parse_ledger
from cadence.ledger_file import Header
from cadence.sheet import LedgerMap, make_ids, map_ledger, slug
from cadence.sheet_dates import date_format
from smallbook import build, invoke

SHEETS = os.path.join(os.path.dirname(__file__), "sheets")


# --- the `dates:` setting ------------------------------------------------------------------------

@pytest.mark.parametrize("setting, day, written", [
    ("%d.%m.%Y", date(1975, 3, 4), "04.03.1975"),
    ("dd.mm.yyyy", date(1975, 3, 4), "04.03.1975"),
    ("%-m/%-d/%Y", date(1985, 3, 14), "3/14/1985"),
    ("m/d/yyyy", date(1985, 3, 4), "3/4/1985"),
    ("%Y-%m-%d", date(2026, 12, 3), "2026-12-03"),
    ("%d-%m-%Y", date(2026, 12, 3), "03-12-2026"),
    ("%Y/%m/%d", date(2026, 1, 2), "2026/01/02"),
    ("%d\u00a0%m\u00a0%Y", date(2026, 1, 2), "02\u00a001\u00a02026"),  # no-break spaces
])
def test_a_date_format_reads_what_it_writes(setting, day, written):
    fmt, why = date_format(setting)
    assert why == ""
    assert fmt.format(day) == written
    assert fmt.parse(written) == (day.year, day.month, day.day)


@pytest.mark.parametrize("setting, why", [
    ("%d %B %Y", "'%B' is not a date part cadence reads: use %d, %m and %Y"),
    ("%d.%m", "a date format needs a day, a month and a year: %d, %m and %Y, once each"),
    ("%d.%d.%Y", "a date format needs a day, a month and a year: %d, %m and %Y, once each"),
    ("%Y%m%d", "the format '%Y%m%d' needs a separator between its parts"),
    ("%dT%m.%Y", "the format '%dT%m.%Y' has letters or digits between its parts"),
    ("%d\n%m\n%Y", "the format '%d\\n%m\\n%Y' has a line break, tab or other control "
     "or invisible character between its parts"),
    ("%d\t%m.%Y", "the format '%d\\t%m.%Y' has a line break, tab or other control "
     "or invisible character between its parts"),
    ("%d\u2028%m.%Y", "the format '%d\\u2028%m.%Y' has a line break, tab or other control "
     "or invisible character between its parts"),
    ("%d\u200b.%m.%Y", "the format '%d\\u200b.%m.%Y' has a line break, tab or other control "
     "or invisible character between its parts"),
    ("%d.\u202e%m.%Y", "the format '%d.\\u202e%m.%Y' has a line break, tab or other control "
     "or invisible character between its parts"),
    ("%d.\u034f%m.%Y", "the format '%d.\\u034f%m.%Y' has a line break, tab or other control "
     "or invisible character between its parts"),
    ("%d\ufe0f.%m.%Y", "the format '%d\\ufe0f.%m.%Y' has a line break, tab or other control "
     "or invisible character between its parts"),
])
def test_a_date_format_cadence_cannot_read_says_why(setting, why):
    assert date_format(setting) == (None, why)


# --- ids made once --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, made", [
    ("Ann Lind", "ann-lind"),
    ("Åsa Öberg", "asa-oberg"),
    ("  Björn  Ek-Son ", "bjorn-ek-son"),
    ("Борис Петров", "борис-петров"),
    ("O'Brien, Dan", "o-brien-dan"),
    ("!!!", ""),
    # a letter without an accent to take off stays: a made id must never change, since a
    # fresh download of the sheet (no id column) makes the ids again (README "Semantics")
    ("Anna Groß", "anna-groß"),
    ("Søren Kjær", "søren-kjær"),
    ("Дмитрий Волков", "дмитрий-волков"),
])
def test_an_id_is_made_from_the_name(name, made):
    assert slug(name) == made


def test_made_ids_are_distinct_stable_and_skip_the_rows_that_have_one():
    rows = [{"id": "", "name": "Ann Lind"}, {"id": "ann-lind-2", "name": "X"},
            {"id": "", "name": "Ann Lind"}, {"id": "", "name": "Ann Lind"},
            {"id": "", "name": "", "email": "bo.ek@example.com"}, {"id": "", "name": "?"}]
    made = make_ids(rows, {"ann-lind-2"})
    assert made == {0: "ann-lind", 2: "ann-lind-3", 3: "ann-lind-4", 4: "bo-ek", 5: "contact"}
    assert make_ids(rows, {"ann-lind-2"}) == made  # the same sheet, the same ids


# --- the view and the way back ----------------------------------------------------------------

SWEDISH = LedgerMap(columns=(("name", "Namn"), ("email", "E-post")),
                    dates=date_format("%d.%m.%Y")[0], default_playbook="new-lead",
                    generate_ids=True)


def _view(data: bytes, lmap: LedgerMap, path: str = "contacts.csv"):
    header = Header({h: n for n, h in lmap.columns}, ids=not lmap.generate_ids)
    ledger, problems = parse_ledger(data, path, header=header)
    assert ledger is not None, problems
    view, found = map_ledger(ledger, lmap)
    assert [p for p in found if not p.warning] == []
    return view


def test_the_view_speaks_cadences_columns_and_iso_dates():
    data = "\ufeffNamn;E-post;started\r\nAnn Lind;ann@example.se;01.11.2026\r\n".encode()
    view = _view(data, SWEDISH)
    assert view.columns == ("id", "name", "email", "started", "playbook")
    assert view.rows[0] == {"id": "ann-lind", "name": "Ann Lind", "email": "ann@example.se",
                            "started": "2026-11-01", "playbook": "new-lead"}
    assert str(view.source(0, "email")) == "contacts.csv:2:10"


def test_writing_back_keeps_the_sheets_headers_dates_and_dialect():
    data = "\ufeffNamn;E-post;started\r\nAnn Lind;ann@example.se;01.11.2026\r\n".encode()
    view = _view(data, SWEDISH)
    assert dump_ledger(view, {}) == data
    out = dump_ledger(view, {0: {"started": "2026-11-02", "last_touch": "2026-11-03"}})
    assert out == ("\ufeffNamn;E-post;started;id;playbook;last_touch\r\n"
                   "Ann Lind;ann@example.se;02.11.2026;ann-lind;new-lead;03.11.2026\r\n").encode()
    again = _view(out, SWEDISH)
    assert again.made_ids == {} and again.defaulted == frozenset()
    assert again.rows[0]["started"] == "2026-11-02" and again.rows[0]["id"] == "ann-lind"


def test_a_sheet_with_its_ids_and_playbooks_needs_no_write():
    data = b"id,name,playbook\nann,Ann,p\n"
    view = _view(data, LedgerMap(default_playbook="p", generate_ids=True))
    assert view.rows is view.file.rows  # nothing to translate: the file's own rows
    assert view.to_file({}) == {}
    assert dump_ledger(view, {0: {"name": "Ann"}}) == data


# --- init --from on real-shaped exports -----------------------------------------------------------

EXPORTS = [
    # file, what init says it guessed, the format dates are written back in
    ("swedish-excel.csv", ["columns: name = 'Name', email = 'E-mail', phone = 'Phone', "
                           "birthday = 'Birthday'", "dates: DD.MM.YYYY (as in '14.03.1975')"],
     "02.12.2026"),
    ("google-sheets.csv", ["columns: name = 'Full name', email = 'Email', phone = 'Phone number', "
                           "birthday = 'Birthday'", "dates: M/D/YYYY (as in '3/14/1985')"],
     "12/2/2026"),
    ("contacts.yaml", ["columns: the sheet's headers are cadence's own",
                       "dates: YYYY-MM-DD (as in '1979-08-21')"], "2026-12-02"),
]


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine whose timezone is Stockholm's and whose git knows the user."""
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Eva Konsult\n\temail = eva@konsult.example\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    return tmp_path


@pytest.mark.parametrize("export, guessed, written", EXPORTS)
def test_init_from_an_export_works_with_no_hand_edit(machine, export, guessed, written):
    """README "Start from your own spreadsheet": init --from, check, due, run, as they are."""
    shutil.copy(os.path.join(SHEETS, export), machine / export)
    original = (machine / export).read_bytes()
    book = machine / "book"
    result = invoke("init", book, "--from", machine / export)
    assert result.exit_code == 0, result.output
    for line in guessed:
        assert f"  {line}\n" in result.stdout
    assert "  timezone: Europe/Stockholm (this machine's)\n" in result.stdout
    assert "  sender: Eva Konsult <eva@konsult.example> (from git)\n" in result.stdout
    assert (book / export).read_bytes() == original  # the file becomes the ledger, unchanged
    config = (book / "cadence.yaml").read_text()
    assert "timezone: Europe/Stockholm" in config and "default_playbook: new-lead" in config

    checked = invoke("-C", book, "check", "--today", "2026-12-02")
    assert checked.exit_code == 0, checked.output
    assert "no contact follows a playbook" not in checked.stderr
    waiting = invoke("-C", book, "due", "--today", "2026-12-02").stdout
    assert re.fullmatch(r"Nothing due on 2026-12-02\.\nNew in the ledger: \d+ contacts with a "
                        r"playbook, not started yet; `cadence run` enrols them\.\n",
                        waiting), waiting
    ran = invoke("-C", book, "run", "--today", "2026-12-02")
    assert ran.exit_code == 0, ran.output
    count = len(parse_ledger(original, export, header=Header(loose=True))[0].rows)
    # the journal cadence made for the book opens in the same spreadsheet: its delimiter, BOM
    d = ";" if export == "swedish-excel.csv" else ","
    head, *journal = (book / "history.csv").read_text(encoding="utf-8").splitlines()
    assert head == ("\ufeff" if export == "swedish-excel.csv" else "") + d.join(
        ["date", "contact", "event", "playbook", "step", "channel", "template", "note"])
    assert len(journal) == count and all(
        d.join(["", "status", "new-lead", "", "", "", "started"]) in r for r in journal)
    due = invoke("-C", book, "due", "--today", "2026-12-03", "--json")
    assert len(__import__("json").loads(due.stdout)["due"]) == count  # every contact enrolled

    after = (book / export).read_bytes()
    if export.endswith(".csv"):
        old_lines, new_lines = original.split(b"\r\n"), after.split(b"\r\n")
        assert len(old_lines) == len(new_lines)
        for old, new in zip(old_lines, new_lines):
            assert new.startswith(old)  # the user's cells as they were, cadence's appended
        assert written.encode() in after and after.startswith(original[:3])
    else:
        assert b"# my contacts\n" in after and b"  company: Martin SARL   # met in Lyon\n" in after
        assert f"started: {written}".encode() in after


@pytest.mark.parametrize("header, cells, mapped", [
    ("Ålder", ["51", "34", ""], True),
    ("Age", ["67"], True),
    ("Возраст", ["40"], True),
    ("Вік", ["40"], True),
    ("Alter", ["58"], True),
    ("Age", ["about 50"], False),  # not whole years: the sheet's own column
    ("Age", ["5O"], False),
    ("Ålder", ["1961", "45"], False),  # a birth year is not an age
    ("Age", ["365"], False),  # a lead's age in days
])
def test_init_from_maps_a_column_of_ages_for_the_bundled_if_rule(header, cells, mapped):
    """README (columns): the bundled playbooks' "paper for older contacts" rule reads
    `contact.age`: a sheet's column of whole years is mapped to it."""
    guess = guess_sheet(("Namn", header), [{"Namn": "A", header: c} for c in cells])
    assert (("age", header) in guess.columns) is mapped


def test_a_sheet_with_ages_gets_paper_for_older_contacts_from_init_on(machine):
    """End to end: `init --from` a sheet with an `Ålder` column, and the bundled new-lead's
    `if` rule sends the 65-year-old's steps by letter, the 30-year-old's by email."""
    sheet = machine / "kunder.csv"
    sheet.write_text("Namn;E-post;Adress;Ålder\nAnna Groß;anna@straße.de;Hauptstr. 1, Berlin;65\n"
                     "Erik Lund;erik@example.se;Storgatan 1, Lund;30\n", encoding="utf-8")
    book = machine / "book"
    result = invoke("init", book, "--from", sheet)
    assert result.exit_code == 0, result.output
    assert "age = 'Ålder'" in result.stdout
    channels = {}
    for cid in ("anna-groß", "erik-lund"):
        planned = invoke("-C", book, "plan", cid, "--today", "2026-12-03", "--json")
        assert planned.exit_code == 0, planned.output
        channels[cid] = json.loads(planned.stdout)["touches"][0]["channel"]
    assert channels == {"anna-groß": "letter", "erik-lund": "email"}


@pytest.mark.parametrize("headers, language", [
    (("Namn", "E-post", "Telefon"), "sv"),
    (("Name", "Email", "Företag"), "sv"),  # one Swedish header is enough
    (("Name", "Email", "Anteckningar"), "sv"),
    (("Имя", "Почта", "Телефон"), "ru"),
    (("Ім'я", "Пошта", "Телефон"), ""),  # Ukrainian: no bundled playbook, not the Russian one
    (("Name", "Email", "Phone"), ""),
    (("Nom", "Courriel"), ""),
    # words and letters that other languages write too say nothing
    (("Name", "E-Mail", "Telefon", "Ort"), ""),  # German
    (("Navn", "E-post", "Telefon", "Fødselsdag"), ""),  # Norwegian
    (("Nimi", "Sähköposti", "Puhelin"), ""),  # Finnish
    (("Име", "Имейл", "Телефон"), ""),  # Bulgarian
])
def test_the_language_of_a_sheet_is_read_from_its_headers(headers, language):
    """README "Start from your own spreadsheet": the headers say the language the sheet's
    owner works in (the contacts' names may be anyone's)."""
    assert guess_sheet(headers, [{h: "" for h in headers}]).language == language


@pytest.mark.parametrize("header, playbook, locale, greeting", [
    ("Namn;E-post", "new-lead-sv", "sv", "Hej Märta"),
    ("Имя;Почта", "new-lead-ru", "ru", "Здравствуйте, Märta!"),
    ("Name;Email", "new-lead", None, "Hello Märta"),
])
def test_init_from_a_sheet_in_swedish_or_russian_follows_its_language(machine, header, playbook,
                                                                    locale, greeting):
    """A Swedish sheet gets the Swedish playbook and `locale: sv` from the start: the first
    run writes the playbook into every row, so a wrong one would be there to stay."""
    sheet = machine / "kontakter.csv"
    sheet.write_text(f"{header}\nMärta Lindqvist;marta@example.se\n", encoding="utf-8")
    book = machine / "book"
    result = invoke("init", book, "--from", sheet)
    assert result.exit_code == 0, result.output
    config = (book / "cadence.yaml").read_text(encoding="utf-8")
    assert f"  default_playbook: {playbook}   #" in config
    assert (f"\nlocale: {locale} " in config) is (locale is not None)
    assert ("  language: " in result.stdout) is (locale is not None)
    assert invoke("-C", book, "run", "--today", "2026-12-02").exit_code == 0
    draft = invoke("-C", book, "render", "marta-lindqvist", "--today", "2026-12-03").stdout
    assert greeting in draft


@pytest.mark.parametrize("header", ["DOB", "Дата народження"])
def test_init_from_knows_more_birthday_headers(header):
    guess = guess_sheet(("Name", header), [{"Name": "A", header: "1975-03-14"}])
    assert ("birthday", header) in guess.columns


def test_a_birth_year_column_is_the_sheets_own():
    """`Född` often holds a birth year (1961) or a personnummer: not a birthday cadence can
    greet, so it is not mapped (a book made from it passes `check`)."""
    guess = guess_sheet(("Namn", "Född"), [{"Namn": "A", "Född": "1961"}])
    assert not any(name == "birthday" for name, _ in guess.columns)


def test_init_from_guesses_month_first_only_when_the_cells_say_so():
    rows = [{"d": "03/04/2026"}, {"d": "11/02/2026"}]
    guess = guess_sheet(("d",), rows)
    assert (guess.dates.pattern, guess.ambiguous) == ("%d/%m/%Y", True)
    guess = guess_sheet(("d",), rows + [{"d": "12/31/2026"}])
    assert (guess.dates.pattern, guess.ambiguous) == ("%m/%d/%Y", False)
    assert guess_sheet(("d",), [{"d": "x"}]).date_sample == ""


def test_init_without_git_or_flags_writes_a_placeholder_that_check_warns_about(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    result = invoke("init", tmp_path / "book")
    assert "sender: Your Name <you@example.com>: a placeholder" in result.stdout
    checked = invoke("-C", tmp_path / "book", "check", "--today", "2026-12-02")
    assert "cadence.yaml:" in checked.stderr and "placeholder" in checked.stderr
    # init's example phone and address too, in the same `check`: one fix, not two
    assert "the sender's phone and address are init's example" in checked.stderr


def test_init_from_a_sheet_check_refuses_says_what_to_fix_first(machine):
    """A sheet with cells no format reads is copied in as it is (the book is made), and init
    names what `check` will refuse, with its places, instead of sending the user to `due`."""
    sheet = machine / "kunder.csv"
    sheet.write_text("id,name,email,started\nann,Ann,ann@example.com,2026-11-01\n"
                     "bo,Bo,bo@example.com,31.02.2026\ncy,Cy,cy@example.com,2026-13-01\n")
    result = invoke("init", machine / "book", "--from", sheet)
    assert result.exit_code == 0, result.output
    assert "The sheet has 2 problems that `check` refuses (below): fix them in " in result.stdout
    assert "Next:" not in result.stdout
    checked = invoke("-C", machine / "book", "check", "--today", "2026-12-02")
    assert checked.exit_code == 65
    refused = [line for line in checked.stderr.splitlines() if "kunder.csv:" in line]
    assert len(refused) == 2 and "impossible date '31.02.2026'" in refused[0]
    assert [line.split(": ", 1)[1] for line in result.stderr.splitlines() if "kunder.csv:" in line] \
        == [line.split(": ", 1)[1] for line in refused]


def test_init_takes_the_sender_it_is_given(machine):
    result = invoke("init", machine / "book", "--sender-name", "Åsa Berg",
                    "--sender-email", "asa@berg.example")
    assert result.exit_code == 0
    assert "  sender: Åsa Berg <asa@berg.example> (given)\n" in result.stdout
    assert 'name: "Åsa Berg"\n  email: "asa@berg.example"' in (machine / "book" / "cadence.yaml").read_text()


@pytest.mark.parametrize("export, start, newline", [
    ("swedish-excel.csv", "\ufeffcontact;name;playbook;", "\r\n"),
    ("google-sheets.csv", "contact,name,playbook,", "\r\n"),
    ("contacts.yaml", "contact,name,playbook,", "\n"),
])
def test_exports_open_in_the_spreadsheet_that_saved_the_ledger(machine, export, start, newline):
    """README "Commands" (`due --csv`): the ledger's delimiter, line ending and BOM, so that a
    Swedish or German Excel splits the columns; forecast and stats alike."""
    shutil.copy(os.path.join(SHEETS, export), machine / export)
    book = machine / "book"
    assert invoke("init", book, "--from", machine / export).exit_code == 0
    assert invoke("-C", book, "run", "--today", "2026-12-02").exit_code == 0
    for args, header in ((["due"], start), (["forecast", "--days", "2"], start[:2] and None),
                         (["stats"], None)):
        out = invoke("-C", book, *args, "--today", "2026-12-03", "--csv").stdout_bytes.decode()
        if header:
            assert out.startswith(header)
        first = out.split(newline, 1)[0]
        assert out.count(newline) >= 2 and "\n" not in first
        assert out.startswith("\ufeff") == start.startswith("\ufeff")
        delim = ";" if ";" in start else ","
        assert first.count(delim) >= 3


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_journal_is_read_and_appended_with_its_own_delimiter(tmp_path, delimiter):
    """README "The journal": the delimiter is the header line's; what cadence appends follows
    it, and the rows read back as the same touches whatever the delimiter."""
    from cadence.journal import parse_journal

    columns = ["date", "contact", "event", "playbook", "step", "channel", "template", "note"]
    text = "\ufeff" + delimiter.join(columns) + "\n" + delimiter.join(
        ["2026-11-20", "c1", "touch", "p", "hello", "email", "hello", '"a note; with, both"']) + "\n"
    rows, problems = parse_journal(text, "history.csv")
    assert problems == [] and rows["c1"][0].note == "a note; with, both"
    assert rows["c1"][0].step == "hello"
    root = build(tmp_path / "book", {"history.csv": text})
    assert invoke("-C", root, "run", "--today", "2026-11-23").exit_code == 0
    lines = (tmp_path / "book" / "history.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) > 2 and all(line.count(delimiter) >= 7 for line in lines[2:])
    again, problems = parse_journal((tmp_path / "book" / "history.csv").read_text(), "history.csv")
    assert problems == [] and len(sum(again.values(), ())) == len(lines) - 1


# --- sheets as people have them (README "Semantics": a sheet's own columns, dates with a time) ---

def _init(tmp_path, name: str, data: bytes, *more):
    (tmp_path / name).write_bytes(data)
    result = invoke("init", tmp_path / "book", "--from", tmp_path / name, *more)
    assert result.exit_code == 0, result.output
    return tmp_path / "book", result.stdout


def _ok(book, *args):
    result = invoke("-C", book, *args, "--today", "2026-12-03")
    assert result.exit_code == 0, result.output
    return result


def test_rows_of_empty_cells_are_not_contacts_and_stay_as_they_are(machine):
    data = b"Name;E-mail;Phone\r\nAnn Ek;ann@ek.se;070 1\r\n;;\r\n;;\r\n"
    book, said = _init(machine, "s.csv", data)
    assert "(1 contact)" in said
    _ok(book, "check")
    ran = _ok(book, "run")
    assert "Enrolled 1 contact today" in ran.stdout
    assert (book / "s.csv").read_bytes().endswith(b"\r\n;;\r\n;;\r\n")
    assert (book / "history.csv").read_text().count("started") == 1


def test_an_id_column_with_empty_cells_gets_the_missing_ids_made(machine):
    book, said = _init(machine, "k.csv", b"ID,Name,Email\r\n17,Ann,a@x.se\r\n,Bo Berg,b@x.se\r\n")
    assert "ids: some rows have none" in said
    assert "ids: generate" in (book / "cadence.yaml").read_text()
    _ok(book, "check")
    _ok(book, "run")
    lines = (book / "k.csv").read_text().splitlines()
    assert lines[1].startswith("17,Ann,") and lines[2].startswith("bo-berg,Bo Berg,")


def test_a_sheets_own_status_column_is_its_own(machine):
    """`Status` holding `VIP` is not cadence's status: not mapped, and no misspelling error."""
    book, said = _init(machine, "k.csv", "Kund-ID;Namn;Mobil;Status\r\n17;Ann Ek;0701;VIP\r\n"
                       "18;Bo Ek;0702;\r\n".encode())
    assert "status" not in said.split("columns:", 1)[1].split("\n", 1)[0]
    _ok(book, "check")
    _ok(book, "run")
    header = (book / "k.csv").read_text().splitlines()[0]
    assert header.startswith("Kund-ID;Namn;Mobil;Status;") and ";status;" in header
    (machine / "b2").mkdir()
    _, said = _init(machine / "b2", "k.csv", b"Name,Status\r\nAnn,won\r\nBo,\r\n")
    assert "status = 'Status'" in said  # cadence's own words: cadence's column


def test_an_impossible_iso_date_in_a_day_first_sheet_is_one_error_not_also_a_warning():
    """`2026-13-01` in a DD.MM.YYYY sheet is an impossible date, said once; it is not counted
    among the cells written in another format (which cadence reads)."""
    data = ("Namn;E-post;Född\r\nAnn;a@x.se;14.03.1975\r\nBo;b@x.se;2026-13-01\r\n"
            "Cy;c@x.se;1980-02-01\r\n").encode()
    lmap = LedgerMap((("name", "Namn"), ("email", "E-post"), ("birthday", "Född")),
                     date_format("%d.%m.%Y")[0], generate_ids=True)
    ledger, problems = parse_ledger(data, "k.csv", header=Header(
        {"Namn": "name", "E-post": "email", "Född": "birthday"}, ids=False, own=True))
    assert problems == []
    _, found = map_ledger(ledger, lmap)
    assert [(str(p.source), p.message, p.warning) for p in found] == [
        ("k.csv:3:11", "impossible date '2026-13-01'", False),
        ("k.csv:4:11", "column 'Född': 1 of 3 dates are written as YYYY-MM-DD, not as DD.MM.YYYY",
         True)]


RENAMED = [
    # (header, cells, cadence's column it is taken for, or None: the sheet's own) -- README,
    # "A sheet's own columns": a header of cadence's in another case, holding its cells only,
    # is cadence's column renamed by hand and an error, so that no state is lost unsaid
    ("Status", ["won", ""], "status"),
    ("Status", ["VIP", "won"], None),  # a word that is not cadence's: the sheet's own
    ("Status", ["", ""], None),  # nothing held, nothing lost
    ("Callback", ["2027-01-08T11:00", ""], "callback"),
    ("Callback", ["08.01.2027 11:00", ""], "callback"),  # in the sheet's own date format
    ("Callback", ["after lunch", ""], None),
    ("Last Touch", ["2026-11-24", "2026-11-20"], "last_touch"),
    ("OptOut", ["email, call", ""], "optout"),
    ("Opt-Out", ["all", ""], "optout"),
    ("Last Step", ["decide-2", "keep-1"], "last_step"),
    ("Last Step", ["called twice, no answer", ""], None),
    ("Touches", ["3", "12"], "touches"),
    ("Touches", ["many", ""], None),
    ("ID", ["17", "18"], None),  # a sheet's own ids beside the ones cadence makes
]


@pytest.mark.parametrize("header, cells, column", RENAMED)
def test_a_column_of_cadences_renamed_by_hand_is_an_error(header, cells, column):
    from cadence.model import EXIT_DATA

    data = f"Namn;E-post;{header}\r\nAnn Lind;ann@example.se;{cells[0]}\r\n" \
           f"Bo Ek;bo@example.se;{cells[1]}\r\n".encode()
    lmap = LedgerMap((("name", "Namn"), ("email", "E-post")), date_format("%d.%m.%Y")[0],
                     generate_ids=True, places={"columns": None})
    ledger, problems = parse_ledger(data, "k.csv", header=Header(
        {"Namn": "name", "E-post": "email"}, ids=False, own=True))
    assert ledger is not None and problems == [], problems
    _, found = map_ledger(ledger, lmap)
    errors = [p for p in found if not p.warning]
    if column is None:
        assert errors == []
    else:
        row = 2 if cells[0] else 3
        assert [(str(p.source), p.message, p.code) for p in errors] == [
            (f"k.csv:{row}:{len('Ann Lind;ann@example.se;') + 1}",
             f"column {header!r} holds cadence's {column!r} cells, but its header is not "
             f"{column!r}: the sheet's own column, which cadence would not read", EXIT_DATA)]
        both = f"Namn;E-post;{header};{column}\r\nAnn Lind;ann@example.se;{cells[0]};\r\n" \
               f"Bo Ek;bo@example.se;{cells[1]};\r\n".encode()
        ledger, _ = parse_ledger(both, "k.csv", header=Header(
            {"Namn": "name", "E-post": "email"}, ids=False, own=True))
        assert [p for p in map_ledger(ledger, lmap)[1] if not p.warning] == []  # cadence's own


def test_a_plain_ledgers_renamed_column_is_said_once(tmp_path):
    """Without a `ledger:` mapping, `Status` is an unknown column (did you mean 'status'?),
    said once: not also as cadence's column renamed."""
    root = build(tmp_path / "book", {"contacts.csv": "id,name,email,playbook,started,Status\n"
                                     "c1,Ann,ann@example.com,p,2026-11-01,won\n"})
    result = invoke("-C", root, "check", "--today", "2026-11-02")
    assert result.exit_code == 65
    assert result.stderr.count("'Status'") == 1 and "holds cadence's" not in result.stderr
    assert "unknown column 'Status' (did you mean 'status'?)" in result.stderr


def test_a_first_name_stands_for_the_name_and_no_name_is_said(machine):
    _, said = _init(machine, "o.csv", b"First Name,Last Name,E-mail Address\r\nAnn,Ek,a@x.se\r\n")
    assert "name = 'First Name'" in said and "email = 'E-mail Address'" in said
    (machine / "b2").mkdir()
    _, said = _init(machine / "b2", "f.csv", b"foo,bar\r\n1,2\r\n")
    assert "names: no column of names found" in said


@pytest.mark.parametrize("headers, cells, mapped", [
    # a Google Contacts export
    (("First Name", "E-mail 1 - Value", "Phone 1 - Value", "Address 1 - Formatted"),
     ("Ann", "ann@example.com", "+46 70 123 45 67", "Storgatan 1, Lund"),
     {"name": "First Name", "email": "E-mail 1 - Value", "phone": "Phone 1 - Value",
      "address": "Address 1 - Formatted"}),
    (("Имя", "Эл. почта", "Мобильный"), ("Ольга", "olga@example.ru", "+7 916 111 22 33"),
     {"name": "Имя", "email": "Эл. почта", "phone": "Мобильный"}),
    (("Ім'я", "Ел. пошта", "Мобільний"), ("Олена", "olena@example.ua", "+380 67 123 45 67"),
     {"name": "Ім'я", "email": "Ел. пошта", "phone": "Мобільний"}),
    (("Namn", "Mobiltelefon"), ("Åsa", "070-123 45 67"), {"name": "Namn", "phone": "Mobiltelefon"}),
    # no header says so, but every cell is an email address
    (("Kund", "Kontakt"), ("Eva AB", "eva@example.se"), {"email": "Kontakt"}),
    (("Namn", "Vem"), ("Eva", "eva@example.se"), {"name": "Namn", "email": "Vem"}),
])
def test_init_from_finds_how_to_reach_people_in_common_exports(headers, cells, mapped):
    guess = guess_sheet(headers, [dict(zip(headers, cells))])
    assert {k: v for k, v in guess.columns if k in mapped} == mapped and guess.reaches


@pytest.mark.parametrize("headers, rows, mapped", [
    # a `Name` column keeps its name even with an email in it
    (("Name", "Email", "Phone"), [("info@firm.se", "info@firm.se", "")],
     {"name": "Name", "email": "Email", "phone": "Phone"}),
    # Outlook's phones: the empty Business Phone gives way to the Mobile Phone that has numbers
    (("First Name", "Business Phone", "Home Phone", "Mobile Phone"),
     [("Ann", "", "", "070-111"), ("Bo", "", "", "070-222")],
     {"name": "First Name", "phone": "Mobile Phone"}),
    # the owner's own address in every row is not the contacts'; their work address is
    (("Namn", "Ansvarig", "Jobb"), [("Ann", "me@eva.se", "ann@a.se"), ("Bo", "me@eva.se", "bo@b.se")],
     {"name": "Namn", "email": "Jobb"}),
    # a notes column with one address in it is not the contacts' email
    (("Namn", "Anteckning"), [("Ann", "skriv till ann@a.se"), ("Bo", ""), ("Cy", "ann@a.se")],
     {"name": "Namn"}),
])
def test_init_from_maps_the_columns_that_hold_the_values(headers, rows, mapped):
    guess = guess_sheet(headers, [dict(zip(headers, row)) for row in rows])
    assert {k: v for k, v in guess.columns} == {k: v for k, v in mapped.items() if k != v}
    assert guess.has_names is ("name" in mapped)


def test_init_from_says_when_no_column_reaches_anyone(machine):
    _, said = _init(machine, "n.csv", b"Namn;Anteckning\r\nAnn;ring i maj\r\n")
    assert "reach: no column of email addresses, phone numbers or postal addresses found" in said


@pytest.mark.parametrize("cell, read", [
    ("1975-03-14 00:00:00", "1975-03-14"), ("14.03.1975 00:00", "1975-03-14"),
    ("2026-12-20 9:30:00", "2026-12-20T09:30"), ("2026-12-20T14:30", "2026-12-20T14:30"),
])
def test_a_date_exported_with_a_time(cell, read):
    from cadence.sheet_dates import ISO, read_cell

    assert read_cell(cell, ISO)[0] == read and read_cell(cell, ISO)[2] == ""


def test_a_date_with_midnight_passes_check(machine):
    book, said = _init(machine, "g.csv", b"Name,Email,Birthday\r\nAnn,a@x.se,1975-03-14 00:00:00\r\n")
    assert "(as in '1975-03-14 00:00:00')" in said
    _ok(book, "check")


def test_a_sheet_named_like_the_journal_is_copied_under_another_name(machine):
    (machine / "dir").mkdir()
    book, said = _init(machine / "dir", "history.csv", b"Name,Email\r\nAnn,a@x.se\r\n")
    assert "around history.csv (1 contact, copied as contacts.csv)" in said
    assert (book / "contacts.csv").read_bytes() == b"Name,Email\r\nAnn,a@x.se\r\n"
    assert (book / "history.csv").read_text().startswith("date,contact,event")
    _ok(book, "check")
    (machine / "here").mkdir()
    (machine / "here" / "history.csv").write_bytes(b"Name\r\nAnn\r\n")
    refused = invoke("init", machine / "here", "--from", machine / "here" / "history.csv")
    assert refused.exit_code == 2 and "rename the file" in refused.stderr


def test_the_example_sender_phone_and_address_are_warned_about(machine):
    book, _ = _init(machine, "g.csv", b"Name,Email\r\nAnn,a@x.se\r\n")
    text = (book / "cadence.yaml").read_text()
    assert 'phone: "+46 70 000 00 00"' in text  # templates sign with it: never left empty
    checked = _ok(book, "check")
    assert "the sender's phone and address are init's example" in checked.stderr


def test_scientific_notation_needs_the_plus_a_spreadsheet_writes(machine):
    book, _ = _init(machine, "s.csv", "Name;Email;Kod;Phone\r\nAnn;a@x.se;1E5;4,67012E+11\r\n"
                    "Bo;b@x.se;2E3;46701234567\r\n".encode())
    warned = _ok(book, "check").stderr
    assert "column 'Phone': 1 cell ('4,67012E+11')" in warned and "'Kod'" not in warned


def test_exports_of_a_code_page_ledger_are_utf8_with_a_bom_and_rates_have_a_decimal_comma(machine):
    book, said = _init(machine, "w.csv", "Name;Email\r\nJürgen Böhm;j@b.de\r\nAnn;a@x.se\r\n"
                       .encode("cp1252"))
    assert "encoding: cp1252" in said
    _ok(book, "run")
    due = invoke("-C", book, "due", "--today", "2026-12-04", "--csv").stdout_bytes.decode("utf-8")
    assert due.startswith("\ufeffcontact;") and "Jürgen Böhm" in due
    who = _id_of(book, "Jürgen")
    assert invoke("-C", book, "run", "--today", "2026-12-04").exit_code == 0
    assert invoke("-C", book, "reply", who, "--today", "2026-12-05").exit_code == 0
    stats = invoke("-C", book, "stats", "--today", "2026-12-05", "--csv").stdout_bytes.decode()
    rates = [line.split(";")[5] for line in stats.splitlines()[1:] if line.startswith("channel")]
    assert rates and all("." not in r for r in rates)


def _id_of(book, name: str) -> str:
    plan = invoke("-C", book, "due", "--today", "2026-12-04", "--json").stdout
    import json

    return next(t["contact"] for t in json.loads(plan)["due"] if t["name"].startswith(name))


def test_run_says_when_no_contact_follows_a_playbook(tmp_path):
    root = build(tmp_path / "book", {"contacts.csv": "id,name,email\nc1,Ann,a@x.se\n"})
    ran = invoke("-C", root, "run", "--today", "2026-11-23")
    assert ran.exit_code == 0 and "No contact follows a playbook" in ran.stdout


def test_a_no_reply_address_from_git_is_said_at_once(tmp_path, monkeypatch):
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Eva\n\temail = 1+eva@users.noreply.github.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    result = invoke("init", tmp_path / "book")
    assert "(from git; a no-reply address, which loses the answers" in result.stdout
    checked = invoke("-C", tmp_path / "book", "check")
    assert "takes no replies" in checked.stderr
    # and init's example phone and address with it, in the same `check`: one fix, not two
    assert "the sender's phone and address are init's example" in checked.stderr


@pytest.mark.parametrize("cells, pattern", [
    (["3/14/1985", "11/2/1970"], "%-m/%-d/%Y"),          # Google Sheets: no zeros
    (["14.03.1975", "02.11.1960"], "%d.%m.%Y"),          # Excel: zeros
    (["14.03.1975", "02.11.1960", "2.5.1980"], "%d.%m.%Y"),  # one typed by hand
    (["1.2.1980", "12.11.1990"], "%-d.%-m.%Y"),
])
def test_init_writes_dates_without_zeros_only_when_the_sheet_does(cells, pattern):
    assert guess_sheet(("d",), [{"d": c} for c in cells]).dates.pattern == pattern


def test_rows_that_leave_out_their_empty_last_cells_read_as_empty_and_are_written_whole(machine):
    """README "The ledger": Excel leaves out the delimiters of a row's empty cells at its end
    (beyond the first rows it looks at): such a row reads as if they were there, and a row
    cadence writes is written whole, so the columns it adds line up."""
    data = b"Name;E-mail;Phone;Company\r\nAnn Ek;ann@ek.se;070 1;Ek AB\r\nBo Berg;b@x.se\r\n"
    book, said = _init(machine, "s.csv", data)
    assert "(2 contacts)" in said
    _ok(book, "check")
    _ok(book, "run")
    rows = (book / "s.csv").read_text().splitlines()
    assert len({row.count(";") for row in rows}) == 1
    assert rows[2].startswith("Bo Berg;b@x.se;;;bo-berg;new-lead;2026-12-03;")
    _ok(book, "check")


def test_excels_sep_line_names_the_delimiter_and_stays(machine):
    """README "The ledger": a first line `sep=;` (Excel's way of naming the delimiter) is read
    as that, and written back as it was."""
    data = b"sep=;\r\nName;E-mail;Phone\r\nAnn Ek;ann@ek.se;070 1\r\nBo Berg;b@x.se;\r\n"
    book, said = _init(machine, "s.csv", data)
    assert "(2 contacts)" in said and "email = 'E-mail'" in said
    _ok(book, "check")
    _ok(book, "run")
    after = (book / "s.csv").read_bytes()
    assert after.startswith(b"sep=;\r\nName;E-mail;Phone;id;playbook;")
    assert b"\r\nAnn Ek;ann@ek.se;070 1;ann-ek;new-lead;2026-12-03;" in after
    assert (book / "history.csv").read_text().startswith("date;contact;")


@pytest.mark.parametrize("setting", ["%Y-%m-%d", "%d.%m.%Y"])
def test_a_date_cell_with_a_line_break_is_no_date(setting):
    """A cell typed over two lines in a spreadsheet is an error to report, not a crash."""
    from cadence.sheet_dates import date_format, read_cell

    fmt, _ = date_format(setting)
    for cell in ("1975-03-14\nx", "14.03.1975\n10:00"):
        iso, _, error = read_cell(cell, fmt)
        assert iso == cell if fmt.iso else error == f"expected a date as {fmt.shown}, got {cell!r}"


@pytest.mark.parametrize("headers, mapped", [
    (("Ім'я", "Телефон"), {"name": "Ім'я", "phone": "Телефон"}),
    (("Ім’я", "Телефон"), {"name": "Ім’я", "phone": "Телефон"}),  # autocorrect's apostrophe
    (("Імʼя", "Телефон"), {"name": "Імʼя", "phone": "Телефон"}),  # the Ukrainian apostrophe
    (("Імя", "Телефон"), {"name": "Імя", "phone": "Телефон"}),  # typed without one
    (("ПІБ", "Мобільний телефон"), {"name": "ПІБ", "phone": "Мобільний телефон"}),
    (("Прізвище, ім'я", "Моб. телефон"), {"name": "Прізвище, ім'я", "phone": "Моб. телефон"}),
])
def test_init_from_reads_ukrainian_headers_however_the_apostrophe_is_typed(headers, mapped):
    """README (columns): a Ukrainian sheet's name and phone headers are its name and phone,
    with the apostrophe of `Ім'я` as any keyboard types it, and the full-name header `ПІБ`."""
    row = {headers[0]: "Мар'яна Коваль", headers[1]: "+380 67 123 4567"}
    guess = guess_sheet(headers, [row])
    assert dict(guess.columns) == mapped and guess.has_names and guess.reaches
    assert guess.language == ""  # Ukrainian: no bundled playbook, English new-lead
    assert guess.other_language == "uk"
    said = [line for line in described(guess, "new-lead") if line.startswith("language: ")]
    assert said == ["language: Ukrainian (from the headers); no bundled playbook is in Ukrainian, "
                    "hence new-lead in English: translate its templates (templates/new-lead/) "
                    "before the first run, or choose another playbook; `locale: uk` in "
                    "cadence.yaml puts call sheets and the day's index in Ukrainian"]


def test_a_sheet_without_a_name_column_is_one_error_a_column_not_one_a_template(machine):
    """A sheet whose names `init` could not find (`Klient`): every bundled template greets by
    `contact.name`, and `check` says so once, at the first template, with the count of the
    others, not in a hundred lines."""
    book, said = _init(machine, "k.csv", b"Klient,E-mail\r\nAnna,a@x.se\r\nBo,b@x.se\r\n")
    assert "names: no column of names found" in said
    result = invoke("-C", book, "check", "--today", "2026-12-03")
    assert result.exit_code == 78
    errors = [line for line in result.stderr.splitlines()
              if line.endswith("'contact.name' is not a column of the ledger")
              and "warning" not in line]  # (the unused templates' are one warning likewise)
    assert len(errors) == 1
    hint = result.stderr.splitlines()[result.stderr.splitlines().index(errors[0]) + 1]
    assert re.search(r"; \d\d more templates use it too$", hint), hint
    assert len(result.stderr.splitlines()) < 15


@pytest.mark.parametrize("headers", [("Ім'я", "Прізвище", "Електронна пошта"),
                                     ("First name", "Last name", "E-mail"),
                                     ("Förnamn", "Efternamn", "E-post")])
def test_init_from_says_a_surname_column_is_not_part_of_the_name(headers):
    """README (columns): a sheet of first names and surnames maps `name` to the first names;
    `init` says that the surnames stay a column of their own, and what that means for ids."""
    row = dict(zip(headers, ("Олена", "Шевчук", "o@example.ua")))
    guess = guess_sheet(headers, [row])
    assert ("name", headers[0]) in guess.columns and guess.surname == headers[1]
    said = [line for line in described(guess, "new-lead") if line.startswith("names:")]
    assert said == [f"names: first names only, {headers[1]!r} stays a column of its own: "
                    "drafts greet by the first name, and two people of one first name get ids "
                    "in the order of the rows (`olena`, `olena-2`): keep the `id` column the "
                    "first run writes in the sheet you download"]
    assert guess_sheet(("Name", "Surname"), [{"Name": "A B", "Surname": "B"}]).surname == ""
