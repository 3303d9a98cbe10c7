"""Drafts people send as they are: .eml with an HTML part, the `date` filter, extends, and the
day's overview (index.md, calls.ics) that `run` writes beside them."""
from __future__ import annotations

import email
import email.policy
import hashlib
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from cadence.main import app
from cadence.model import Failure, Touch
from cadence.sandbox import format_day
from helpers import RowsLedger, make_renderer
from helpers import build_tree, contact, journal, playbook

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONSULTANT = os.path.join(ROOT, "examples", "consultant")
BASIC = os.path.join(ROOT, "tests", "books", "basic", "book")
TODAY = date(2026, 11, 23)
SENDER = {"name": "Eva Konsult", "email": "eva@konsult.example", "phone": "+4670",
          "address": "Eva AB\nGatan 1\n111 22 Stockholm"}
PB = playbook("""
    phases:
      - name: decide
        steps:
          - {at: 1 day, channel: email, template: hello}
""")


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def touch(channel="email", template="hello", step="decide-1", reason="step", time=""):
    return Touch("c1", "x", "p", "decide", step, channel, template, TODAY, 0, reason, 1, time=time)


def renderer(tmp_path, files, tz="Europe/Stockholm"):
    build_tree(tmp_path / "templates", files)
    return make_renderer(str(tmp_path / "templates"), SENDER, tz)


def draft(r, **cells):
    return r.draft(touch(), contact(**cells), PB, (), TODAY).data


@pytest.fixture(scope="module")
def consultant(tmp_path_factory):
    """The consultant example, run on its day: (book folder, run --json document)."""
    import json

    book = tmp_path_factory.mktemp("consultant") / "book"
    shutil.copytree(CONSULTANT, book)
    result = invoke("-C", book, "run", "--today", TODAY, "--json")
    assert result.exit_code == 0, result.output
    return book, json.loads(result.stdout)


# -- .eml ---------------------------------------------------------------------------------------

def test_every_email_of_the_example_parses_with_its_headers(consultant):
    book, document = consultant
    ledger = {}
    for line in (book / "contacts.csv").read_text(encoding="utf-8-sig").splitlines()[1:]:
        cells = line.split(";")
        if len(cells) > 3 and cells[0].startswith("c"):
            ledger[cells[0]] = (cells[1], cells[2])
    emails = [t for t in document["drafted"] if t["channel"] == "email"]
    assert len(emails) == 8
    ids = set()
    for item in emails:
        data = (book / item["path"]).read_bytes()
        assert data.isascii() or b"Content-Transfer-Encoding: 8bit" in data
        assert b"\r\n\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
        message = parse(data)
        name, address = ledger[item["contact"]]
        assert message["To"].addresses[0].display_name == name
        assert message["To"].addresses[0].addr_spec == address
        assert str(message["From"]) == "Irina Holm <irina@holmadvisory.se>"
        assert message["Date"] == "Mon, 23 Nov 2026 09:00:00 +0100"
        assert message["X-Cadence-Contact"] == item["contact"]
        assert message["X-Cadence-Playbook"] == item["playbook"]
        assert message["X-Cadence-Step"] == item["step"]
        assert message["X-Unsent"] == "1"
        assert message["Message-ID"].endswith("@holmadvisory.se>")
        ids.add(message["Message-ID"])
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        assert message.get_content().strip()
    assert len(ids) == len(emails)


@pytest.mark.parametrize("contact_id,name,subject,word", [
    ("c008", "Дмитрий Волков", "Урок 6 из 8: бумага всё ещё работает", "Здравствуйте, Дмитрий!"),
    ("c023", "Виктор Лебедев", "Спасибо за обращение - и что будет дальше", "Здравствуйте, Виктор!"),
    ("c013", "Emma Karlsson", "Grattis på födelsedagen, Emma!", "Vänliga hälsningar"),
    ("c031", "Ingrid Nyström", None, "Hej Ingrid"),
])
def test_cyrillic_and_swedish_names_and_subjects(consultant, contact_id, name, subject, word):
    book, document = consultant
    item = next(t for t in document["drafted"] if t["contact"] == contact_id)
    data = (book / item["path"]).read_bytes()
    message = parse(data)
    assert message["To"].addresses[0].display_name == name
    if subject is not None:
        assert message["Subject"] == subject
    assert not message["Subject"].isascii() or message["Subject"].isascii()
    assert word in message.get_content()
    if not name.isascii():
        assert name.encode("utf-8") not in data.split(b"\r\n\r\n")[0], "non-ASCII names are encoded"


def test_html_twin_makes_a_multipart_alternative_text_first(tmp_path):
    r = renderer(tmp_path, {
        "hello.j2": "Subject: Hej {{ contact.name }}\n\nHej {{ contact.name }}!\n",
        "hello.html.j2": "<p>Hej <b>{{ contact.name }}</b>!</p>\n{% include '_sig.html.j2' %}",
        "_sig.html.j2": "<p>{{ sender.name }}</p>\n",
    })
    data = draft(r, name="Åsa <Öberg> & Борис")
    message = parse(data)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().replace("\r\n", "\n") == "Hej Åsa <Öberg> & Борис!\n"
    html = parts[1].get_content()
    assert "<b>Åsa &lt;Öberg&gt; &amp; Борис</b>" in html and "<p>Eva Konsult</p>" in html
    assert parts[1].get_content_charset() == "utf-8"
    assert message["Subject"] == "Hej Åsa <Öberg> & Борис"
    assert data.count(b"MIME-Version") == 1
    assert message.get_body(("html",)) is parts[1] or message.get_body(("html",)) == parts[1]


def test_html_part_is_byte_identical_run_to_run(tmp_path):
    files = {"hello.j2": "Subject: Hi\n\nText\n", "hello.html.j2": "<p>Html</p>\n"}
    one = draft(renderer(tmp_path / "a", files))
    two = draft(renderer(tmp_path / "b", files))
    assert one == two
    boundary = parse(one).get_boundary()
    assert boundary.startswith("=_cadence_")


def test_boundary_never_appears_in_the_parts(tmp_path):
    from cadence.emails import _boundary

    digest = "ab" * 32
    plain = _boundary(digest, "x")
    assert _boundary(digest, f"text {plain} text") != plain


@pytest.mark.parametrize("files,used", [
    ({"hello.email.j2": "Subject: S\n\nT\n", "hello.email.html.j2": "<p>E</p>",
      "hello.html.j2": "<p>G</p>"}, "<p>E</p>"),
    ({"hello.j2": "Subject: S\n\nT\n", "hello.html.j2": "<p>G</p>"}, "<p>G</p>"),
    ({"hello.email.j2": "Subject: S\n\nT\n", "hello.html.j2": "<p>G</p>"}, None),
])
def test_the_html_twin_is_named_after_the_text_template(tmp_path, files, used):
    html = parse(draft(renderer(tmp_path, files))).get_body(("html",))
    assert (html.get_content().strip() if html is not None else None) == used


def test_html_twin_is_for_email_only(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Script\n", "hello.html.j2": "<p>no</p>"})
    sheet = r.draft(touch("call"), contact(), PB, (), TODAY).data.decode()
    assert "Script" in sheet and "<p>" not in sheet


def test_html_twin_error_names_the_twin(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: S\n\nT\n",
                            "hello.html.j2": "<p>\n{{ contact.nickname }}</p>"})
    with pytest.raises(Failure) as err:
        draft(r)
    assert err.value.code == 78
    assert "hello.html.j2:2: " in str(err.value) and "(contact c1, step decide-1)" in str(err.value)


def test_a_mistake_in_an_included_piece_names_the_piece(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: S\n\n{% include '_body.j2' %}\n",
                            "_body.j2": "Hello,\n{{ contact.nickname }}\n{{ sender.fax }}\n"})
    with pytest.raises(Failure) as err:
        draft(r)
    assert err.value.code == 78
    assert str(err.value).endswith("_body.j2:2: 'contact.nickname' is not a column of the ledger "
                                   "(contact c1, step decide-1)")
    r = renderer(tmp_path / "b", {"hello.j2": "Subject: S\n\n{{ sender.fax }}\n"})
    with pytest.raises(Failure) as err:
        draft(r)
    assert str(err.value).endswith("hello.j2:3: 'sender.fax' is not a field of sender "
                                   "(contact c1, step decide-1)")


@pytest.mark.parametrize("cells,header", [
    ({"name": "Ann\r\nBcc: victim@example.com"}, "Bcc"),
    # an id with a line break is refused as the ledger is read; the draft holds even so
    ({"id": "c1\nBcc: victim@example.com"}, "Bcc"),
])
def test_no_header_injection_from_ledger_data(tmp_path, cells, header):
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi {{ contact.name }} {{ contact.id }}\n\nB\n"})
    row = contact(**{k: v for k, v in cells.items() if k != "id"})
    if "id" in cells:
        row = row._replace(id=cells["id"], row={**row.row, "id": cells["id"]})
    data = r.draft(touch(), row, PB, (), TODAY).data
    message = parse(data)
    assert message[header] is None
    assert all(line == b"" or not line.startswith(b"Bcc") for line in data.split(b"\r\n"))
    assert "victim@example.com" in message["Subject"]


def test_sender_with_a_line_break_is_folded(tmp_path):
    build_tree(tmp_path / "templates", {"hello.j2": "Subject: Hi\n\nB\n"})
    r = make_renderer(str(tmp_path / "templates"), dict(SENDER, name="Eva\r\nBcc: x@example.com"), "")
    message = parse(draft(r))
    assert message["Bcc"] is None and message["From"].addresses[0].display_name == "Eva Bcc: x@example.com"


def test_international_domain_is_written_in_idna(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\nB\n"})
    data = draft(r, email="ann@bücher.example")
    assert b"<ann@xn--bcher-kva.example>" in data
    assert parse(data)["To"].addresses[0].domain == "xn--bcher-kva.example"


@pytest.mark.parametrize("cell, domain", [
    ("anna@straße.de", "xn--strae-oqa.de"),  # IDNA 2003 (Python's codec) made it strasse.de
    ("anna@Bücher.Example", "xn--bcher-kva.example"),  # UTS 46 maps the case
    ("anna@ΣΟΦΊΑ.gr", "xn--kxae4bpq.gr"),
    ("anna@москва.рф", "xn--80adxhks.xn--p1ai"),
])
def test_an_international_domain_is_written_by_idna_2008(tmp_path, cell, domain):
    """README "Semantics": the `xn--` form of IDNA 2008 (with the UTS 46 mapping), which mail
    systems use, not the IDNA 2003 of Python's codec, for which `straße.de` is another
    domain."""
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\nB\n"})
    assert parse(draft(r, email=cell))["To"].addresses[0].domain == domain


def test_a_domain_idna_2008_cannot_write_is_refused_at_its_cell():
    from cadence.model import email_problem

    assert email_problem("ann@i\u2764.example") == (
        "the domain cannot be written in a mail header (IDNA): 'ann@i\u2764.example'")
    assert email_problem("ann@bücher.example") == ""


def test_non_ascii_local_part_is_refused_in_the_ledger():
    """The stdlib cannot write `åsa@` in a header: the ledger says so at the cell (65), before
    any run (tests/errors/ledger-email-non-ascii-local-part has the whole message)."""
    from cadence.contacts import parse_contacts

    _, problems = parse_contacts(RowsLedger([{"id": "c1", "email": "åsa@example.se"}]))
    assert [(p.code, p.message.split(":")[0]) for p in problems] == [
        (65, "the part before @ must be ASCII (a-z, 0-9 and .!#$%&'*+/=?^_`{|}~-)")]


def test_message_id_and_date_come_from_the_inputs(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\nB\n"}, tz="")
    message = parse(draft(r))
    seed = "\x1f".join(("c1", "p", "decide-1", "2026-11-23")).encode()
    assert message["Message-ID"] == f"<{hashlib.sha256(seed).hexdigest()[:32]}@konsult.example>"
    assert message["Date"] == "Mon, 23 Nov 2026 09:00:00 +0000"


# -- extends and include --------------------------------------------------------------------------

def test_extends_for_a_call_sheet_and_an_email(tmp_path):
    r = renderer(tmp_path, {
        "_base.j2": "Hello {{ contact.name }},\n\n{% block body %}{% endblock %}\n\n-- {{ sender.name }}\n",
        "hello.j2": "Subject: About {{ contact.name }}\n{% extends '_base.j2' %}"
                    "{% block body %}the news.{% endblock %}",
        "hello.call.j2": "{% extends '_base.j2' %}{% block body %}ask {{ touch.step }}{% endblock %}",
    })
    message = parse(draft(r))
    assert message["Subject"] == "About Ann Lind"
    assert message.get_content().replace("\r\n", "\n") == "Hello Ann Lind,\n\nthe news.\n\n-- Eva Konsult\n"
    sheet = r.draft(touch("call"), contact(), PB, (), TODAY).data.decode()
    assert "Hello Ann Lind,\n\nask decide-1\n\n-- Eva Konsult" in sheet


# -- the `date` filter ------------------------------------------------------------------------------

@pytest.mark.parametrize("template,expected", [
    ('{{ touch.due | date("d MMMM", locale="ru") }}', "23 ноября"),
    ('{{ touch.due | date("EEEE d MMMM", locale="sv") }}', "måndag 23 november"),
    ('{{ touch.due | date("d MMMM y", locale="sv_SE") }}', "23 november 2026"),
    ('{{ touch.due | date }}', "November 23, 2026"),
    ('{{ touch.due | date(locale="ru") }}', "23 ноября 2026\u202fг."),  # CLDR's narrow space
    ('{{ touch.due | date("full", locale="de-AT") }}', "Montag, 23. November 2026"),
    ('{{ "2026-12-03T10:30" | date("d MMM", locale="en") }}', "3 Dec"),
    ('{{ contact.birthday | date("d MMMM", locale="ru") }}', "9 марта"),
    ('[{{ contact.callback | date }}]', "[]"),
])
def test_date_filter(tmp_path, template, expected):
    r = renderer(tmp_path, {"hello.call.j2": template + "\n"})
    sheet = r.draft(touch("call"), contact(birthday="1980-03-09"), PB, (), TODAY).data.decode()
    assert sheet.rstrip().endswith(expected)


@pytest.mark.parametrize("template,message", [
    ('{{ touch.due | date("d MMMM", locale="xx") }}', "date: unknown locale 'xx'"),
    ('{{ "soon" | date }}', "date: expected a date as YYYY-MM-DD, got 'soon'"),
    ('{{ touch.due | date("HH:mm") }}', "date: the format 'HH:mm' asks for a time"),
    ('{{ touch.due | date("d MMMMMMM") }}', "date: bad format 'd MMMMMMM'"),
])
def test_date_filter_errors_name_the_line(tmp_path, template, message):
    r = renderer(tmp_path, {"hello.call.j2": "Script\n" + template + "\n"})
    with pytest.raises(Failure) as err:
        r.draft(touch("call"), contact(), PB, (), TODAY)
    assert err.value.code == 78
    text = str(err.value)
    assert "hello.call.j2:2: " + message in text and "(contact c1, step decide-1)" in text


def test_date_filter_formats_without_the_process_locale(monkeypatch):
    monkeypatch.setenv("LC_ALL", "ru_RU.UTF-8")
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert format_day(TODAY) == "November 23, 2026"
    assert format_day(datetime(2026, 11, 23, 23, 30, tzinfo=timezone.utc), "d MMMM", "sv") == "23 november"


def test_heavy_modules_load_only_when_needed():
    code = ("import sys; import cadence.cli, cadence.drafts, cadence.overview, cadence.commands.check;"
            "print(sorted(m for m in ('babel', 'icalendar', 'jinja2.meta') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    # `check` tries the date formats the example book's templates write out (babel), and
    # writes no calendar
    check = ("import sys; from cadence.main import app\n"
           "try: app(['-C', %r, 'check', '--today', '2026-11-23', '-q'])\n"
           "except SystemExit: pass\n"
           "print(sorted(m for m in ('babel', 'icalendar') if m in sys.modules))") % CONSULTANT
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "['babel']"


# -- the day's overview -----------------------------------------------------------------------------

def test_index_lists_every_touch_by_channel_calls_first(consultant):
    book, document = consultant
    folder = book / "drafts" / "2026-11-23"
    index = (folder / "index.md").read_text(encoding="utf-8")
    assert index.startswith("# Drafts for 2026-11-23\n\n14 touches: 3 calls, 8 emails, 3 letters.")
    headings = [line for line in index.splitlines() if line.startswith("## ")]
    assert headings == ["## Calls (3)", "## Emails (8)", "## Letters (3)"]
    calls = index.split("## Calls (3)\n\n")[1].split("\n\n")[0].splitlines()
    assert calls[0] == ("- 14:30 · [Gustav Ek](c016--callback.md) · +46707778899 · call-back "
                        "agreed for 2026-11-23 at 14:30 · `callback`")
    assert all(line.startswith("- any time · ") for line in calls[1:])
    for item in document["drafted"]:
        name = os.path.basename(item["path"])
        assert f"]({name})" in index and (folder / name).exists()
    assert document["overview"] == ["drafts/2026-11-23/index.md", "drafts/2026-11-23/calls.ics"]


def test_calls_ics_imports_one_event_a_call(consultant):
    from icalendar import Calendar

    book, document = consultant
    data = (book / "drafts" / "2026-11-23" / "calls.ics").read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//cadence//")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    calendar = Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"])
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    events = calendar.walk("VEVENT")
    calls = [t for t in document["drafted"] if t["channel"] == "call"]
    assert len(events) == len(calls) == 3
    uids = {str(e["UID"]) for e in events}
    expected = {hashlib.sha256(f"{t['contact']}\x1f{t['step']}\x1f2026-11-23".encode())
                .hexdigest()[:32] + "@holmadvisory.se" for t in calls}
    assert uids == expected
    for event in events:
        assert event.decoded("DTSTAMP") == datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
    timed = [e for e in events if "Gustav Ek" in str(e["SUMMARY"])][0]
    start = timed.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Stockholm"
    assert start.replace(tzinfo=None) == datetime(2026, 11, 23, 14, 30)
    assert start.utcoffset() == timedelta(hours=1)
    assert timed.decoded("DTEND") - start == timedelta(minutes=30)
    assert timed.walk("VALARM")[0].decoded("TRIGGER") == timedelta(minutes=-10)
    assert "Call sheet: c016--callback.md" in str(timed["DESCRIPTION"])
    for event in events:
        if event is not timed:
            assert event.decoded("DTSTART") == date(2026, 11, 23)
            assert event.decoded("DTEND") == date(2026, 11, 24)
            assert str(event["TRANSP"]) == "TRANSPARENT"
    assert "Call Александр Морозов (+46738889900)" in {str(e["SUMMARY"]) for e in events}


def _small_book(tmp_path, tz="", calls=True):
    """A book of three contacts: a call-back at 14:30, a call, an email (all due on TODAY)."""
    book = tmp_path / "book"
    build_tree(book, {
        "cadence.yaml": "sender:\n  name: Eva\n  email: eva@konsult.example\n"
                        + (f"timezone: {tz}\n" if tz else ""),
        "contacts.csv": "id,name,email,phone,playbook,started,callback,last_step,last_touch\n"
                        "a,Ann Lind,ann@example.com,+4670,p,2026-11-22,2026-11-23T14:30,,\n"
                        f"b,Bo Ek,bo@example.com,{'+4671' if calls else ''},p,2026-11-21,,"
                        "decide-1,2026-11-22\n"
                        "c,Cia Ny,cia@example.com,,p,2026-11-22,,,\n",
        "playbooks/p.yaml": "channels: [email, call]\nphases:\n  - name: decide\n    steps:\n"
                            "      - {at: 1 day, channel: email, template: hello}\n"
                            "      - {at: 2 days, channel: call, template: ring}\n",
        "templates/hello.j2": "Subject: Hi {{ contact.name }}\n\nHello\n",
        "templates/ring.j2": "Ring {{ contact.name }}\n",
        "templates/callback.j2": "Call back {{ contact.name }}\n",
    })
    return book


def test_without_a_timezone_call_times_are_utc(tmp_path):
    from icalendar import Calendar

    book = _small_book(tmp_path)
    assert invoke("-C", book, "run", "--today", TODAY).exit_code == 0
    data = (book / "drafts" / "2026-11-23" / "calls.ics").read_bytes()
    assert b"VTIMEZONE" not in data and b"DTSTART:20261123T143000Z" in data
    events = Calendar.from_ical(data).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Call Ann Lind (+4670)", "Call Bo Ek (+4671)"]


def test_a_day_without_calls_has_an_index_and_no_calendar(tmp_path):
    book = _small_book(tmp_path, calls=False)
    (book / "contacts.csv").write_text("id,name,email,phone,playbook,started\n"
                                       "c,Cia Ny,cia@example.com,,p,2026-11-22\n")
    assert invoke("-C", book, "run", "--today", TODAY).exit_code == 0
    folder = book / "drafts" / "2026-11-23"
    assert sorted(os.listdir(folder)) == ["c--decide-1.eml", "index.md"]
    assert "1 touch: 1 email." in (folder / "index.md").read_text()


def test_nothing_drafted_writes_no_overview_and_keeps_the_days(tmp_path):
    book = _small_book(tmp_path, tz="Europe/Stockholm")
    assert invoke("-C", book, "run", "--today", "2026-11-20").exit_code == 0
    assert not (book / "drafts").exists()
    assert invoke("-C", book, "run", "--today", TODAY).exit_code == 0
    folder = book / "drafts" / "2026-11-23"
    before = {n: ((folder / n).read_bytes(), os.stat(folder / n).st_mtime_ns) for n in os.listdir(folder)}
    again = invoke("-C", book, "run", "--today", TODAY, "--json")
    assert '"drafted": []' in again.stdout and '"overview": []' in again.stdout
    after = {n: ((folder / n).read_bytes(), os.stat(folder / n).st_mtime_ns) for n in os.listdir(folder)}
    assert after == before


def test_a_second_run_that_day_keeps_the_first_runs_touches(tmp_path):
    book = _small_book(tmp_path, tz="Europe/Stockholm")
    ledger = (book / "contacts.csv").read_text()
    late = "d,Dan Berg,dan@example.com,+4672,p,2026-11-22,,,\n"
    (book / "contacts.csv").write_text(ledger + late)
    assert invoke("-C", book, "run", "--today", TODAY).exit_code == 0
    folder = book / "drafts" / "2026-11-23"
    at_once = {n: (folder / n).read_bytes() for n in ("index.md", "calls.ics")}

    book2 = _small_book(tmp_path / "two", tz="Europe/Stockholm")
    assert invoke("-C", book2, "run", "--today", TODAY).exit_code == 0
    header = (book2 / "contacts.csv").read_text().splitlines()[0]  # the run widened it
    with open(book2 / "contacts.csv", "a") as handle:
        handle.write(late.rstrip("\n") + "," * (header.count(",") - late.count(",")) + "\n")
    second = invoke("-C", book2, "run", "--today", TODAY, "--json")
    assert '"contact": "d"' in second.stdout
    folder2 = book2 / "drafts" / "2026-11-23"
    assert {n: (folder2 / n).read_bytes() for n in ("index.md", "calls.ics")} == at_once
    assert "[Dan Berg](d--decide-1.eml)" in at_once["index.md"].decode()


def test_a_touch_logged_by_hand_is_not_in_the_index(tmp_path):
    from cadence.overview import day_items

    rows = journal("""
        2026-11-23,a,touch,p,,call,,talked by hand
        2026-11-23,a,touch,p,decide-1,email,hello,
        2026-11-22,a,touch,p,decide-0,email,hello,
        2026-11-23,gone,touch,p,decide-1,email,hello,
    """)
    items = day_items((contact(id="a"),), [e for r in rows.values() for e in r], TODAY)
    assert [(i.contact, i.step, i.file) for i in items] == [("a", "decide-1", "a--decide-1.eml")]


def test_markdown_in_ledger_data_is_shown_as_text():
    from cadence.overview import day_items, index_md

    rows = journal("2026-11-23,a,touch,p,decide-1,email,hello,\n")
    items = day_items((contact(id="a", name="[Ann](http://x) *Lind*"),),
                      [e for r in rows.values() for e in r], TODAY)
    assert "[\\[Ann\\](http://x) \\*Lind\\*](a--decide-1.eml)" in index_md(TODAY, items).decode()


def test_drafts_do_not_depend_on_tz_locale_or_hash_seed(tmp_path):
    outputs = []
    for n, env in enumerate(({"TZ": "Pacific/Kiritimati", "LC_ALL": "C", "PYTHONHASHSEED": "1"},
                             {"TZ": "America/Los_Angeles", "LANG": "sv_SE.UTF-8",
                              "PYTHONHASHSEED": "2"})):
        book = tmp_path / str(n)
        shutil.copytree(CONSULTANT, book)
        subprocess.run([sys.executable, "-m", "cadence", "-C", str(book), "run", "--today",
                        "2026-11-23", "--yes", "--quiet"], check=True, env=dict(os.environ, **env))
        folder = book / "drafts" / "2026-11-23"
        outputs.append({name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))})
    assert outputs[0] == outputs[1]
    assert {"index.md", "calls.ics"} <= set(outputs[0])


@pytest.mark.parametrize("locale, dated", [
    ("", "2026-11-23"), ("sv", "23 november 2026"), ("de", "23. November 2026"),
    ("uk", "23 листопада 2026\u202fр."),
])
def test_a_letter_is_dated_in_the_books_locale(tmp_path, locale, dated):
    """README "Templates and drafts": a letter's date in the book's `locale:`, ISO without."""
    from cadence.book import template_loader, template_names
    from cadence.drafts import Renderer

    build_tree(tmp_path / "templates", {"hello.j2": "Dear {{ contact.name }},\n"})
    folder = str(tmp_path / "templates")
    r = Renderer(template_loader(folder), folder, template_names(folder), SENDER, None, "",
                 locale=locale)
    text = r.draft(touch(channel="letter"), contact(address="Vägen 2\n222 33 Lund"), PB, (),
                   TODAY).data.decode("utf-8")
    assert f"\n\n{dated}\n\nDear " in text


def test_a_book_s_locale_dates_its_letters(tmp_path):
    """`locale:` in cadence.yaml reaches the letters `run` writes."""
    from smallbook import build

    root = build(tmp_path / "book", {
        "cadence.yaml": "timezone: Europe/Stockholm\nlocale: sv\nsender: {name: Eva, email: "
                        "eva@konsult.example, address: Gatan 1}\n",
        "playbooks/p.yaml": "phases:\n  - name: decide\n    steps:\n"
                            "      - {at: 1 day, channel: letter, template: hello}\n",
        "contacts.csv": "id,name,email,address,playbook,started\n"
                        "c1,Ann Lind,ann@example.com,Vägen 2,p,2026-11-22\n"})
    assert invoke("-C", root, "run", "--today", "2026-11-23").exit_code == 0
    letters = [n for n in os.listdir(os.path.join(root, "drafts", "2026-11-23"))
               if n.startswith("c1--")]
    text = open(os.path.join(root, "drafts", "2026-11-23", letters[0]), encoding="utf-8").read()
    assert "\n\n23 november 2026\n\n" in text


def test_a_template_linking_out_of_the_book_is_never_opened(tmp_path, monkeypatch):
    """README "Against a hostile book": a template linking out of the templates folder is
    refused before a byte of it is read: not read whole (a huge file, a device) and then
    refused."""
    import jinja2.loaders
    from jinja2 import TemplateNotFound

    from cadence.book import template_loader

    build_tree(tmp_path / "templates", {"hello.j2": "Dear {{ contact.name }},\n"})
    (tmp_path / "outside.j2").write_bytes(b"x\xff\n")
    os.symlink(tmp_path / "outside.j2", tmp_path / "templates" / "sig.j2")
    opened = []
    monkeypatch.setattr(jinja2.loaders, "open", lambda name, *args, **kwargs:
                        opened.append(name) or open(name, *args, **kwargs), raising=False)
    loader = template_loader(str(tmp_path / "templates"))
    with pytest.raises(TemplateNotFound):
        loader.get_source(None, "sig.j2")
    assert opened == []
    assert loader.get_source(None, "hello.j2")[0] == "Dear {{ contact.name }},\n"
