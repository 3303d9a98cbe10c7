"""`check` reads templates without rendering them: unknown variables and ledger columns, and
the channel variants a contact's next touch needs (SPEC section 6)."""
from __future__ import annotations

import json
import os
import shutil

import pytest
from jinja2 import TemplateError
from typer.testing import CliRunner

from cadence.main import app
from helpers import build_tree

BASIC = os.path.join(os.path.dirname(__file__), "books", "basic", "book")
TODAY = "2026-11-23"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def book(tmp_path, monkeypatch):
    target = tmp_path / "book"
    shutil.copytree(BASIC, target)
    monkeypatch.chdir(target)  # messages name templates/... relative to here
    return target


def check(book, *args):
    return invoke("-C", book, "check", "--today", TODAY, *args)


def test_the_basic_book_passes_with_its_fallback_warnings(book):
    result = check(book)
    assert result.exit_code == 0, result.output
    # fallback warnings (a variant missing; a text that would be read out on the phone), and
    # the lints of a test playbook that is no real decision window
    assert result.stdout.startswith("ok: 1 playbook, 11 templates, 13 contacts; 13 warnings")
    assert ("template 'thanks' is an email, and falling back to call it would be read out as "
            "a call script") in result.stderr
    assert "warning: 4 touches in the first 30 days [few-touches]" in result.stderr
    assert ("playbooks/new-lead.yaml:14:9: warning: step 'decide-2' of playbook 'new-lead': "
            "template 'questions' has no variant for email, a channel it may fall back to: "
            "templates/questions.j2 does not begin with a `Subject:` line\n"
            "  hint: add templates/questions.email.j2") in result.stderr


def test_unknown_column_in_a_used_template_is_an_error(book):
    (book / "templates" / "thanks.j2").write_text(
        "Subject: Hi {{ contact.name }}\n\nHello {{ contact.nickname }},\n")
    result = check(book)
    assert result.exit_code == 78
    assert ("templates/thanks.j2:3:10: 'contact.nickname' is not a column of the ledger\n"
            "  hint: did you mean 'contact.name'? Otherwise add the column, or guard its use "
            "with {% if contact.nickname is defined %}") in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("use", [
    "{% if contact.nickname is defined %}{{ contact.nickname }}{% endif %}",
    "{% if contact.nickname is defined and contact.nickname %}x{% endif %}",
    "{{ contact.nickname if contact.nickname is defined else contact.name }}",
    "{% if contact.nickname is not defined %}-{% else %}{{ contact.nickname }}{% endif %}",
    "{% if contact.nickname is undefined %}-{% elif contact.nickname %}{{ contact.nickname }}{% endif %}",
    "{{ contact.nickname | default(contact.name) }}",
    "{{ contact.get('nickname', '') }}",
    "{{ contact['company'] }} {{ contact.company }}",
    "{% set first = contact.name.split()[0] %}{{ first }}{% for h in history %}{{ loop.index }}"
    "{{ h.note }}{% endfor %}{{ range(2) | list }}",
    "{% if nickname is defined %}{{ nickname }}{% endif %}",
    "{% macro hi(who) %}{{ who }}{% endmacro %}{{ hi(contact.name) }}",
    "{{ touch.due | date('d MMMM', locale='sv') }} {{ touch.time }} {{ playbook.description }}",
])
def test_guarded_and_known_uses_are_fine(book, use):
    (book / "templates" / "thanks.j2").write_text(f"Subject: Hi\n\n{use}\n")
    result = check(book)
    assert result.exit_code == 0, result.output
    assert "thanks.j2" not in result.stderr


@pytest.mark.parametrize("use,message", [
    ("{{ nickname }}", "templates/thanks.j2:3:4: 'nickname' is not defined"),
    ("{{ touch.stepp }}", "templates/thanks.j2:3:4: 'touch.stepp' is not a field of touch"),
    ("x {{ sender.mail }}", "templates/thanks.j2:3:6: 'sender.mail' is not a field of sender"),
    ("{% if contact.company %}{{ contact['nick'] }}{% endif %}",
     "templates/thanks.j2:3:28: 'contact.nick' is not a column of the ledger"),
    ("{% if contact.nickname is defined or x %}{{ contact.nickname }}{% endif %}",
     "templates/thanks.j2:3:45: 'contact.nickname' is not a column of the ledger"),
    ("{{ today | dat }}", "templates/thanks.j2:3: No filter named 'dat'."),
])
def test_errors_name_file_line_and_column(book, use, message):
    (book / "templates" / "thanks.j2").write_text(f"Subject: Hi\n\n{use}\n")
    result = check(book)
    assert result.exit_code == 78
    assert message in result.stderr


def test_an_included_template_sees_the_names_its_includer_sets(book):
    build_tree(book / "templates", {
        "thanks.j2": "Subject: Hi\n\n{% set first = contact.name %}{% include '_hello.j2' %}\n",
        "_hello.j2": "Hello {{ first }},\n{{ contact.nickname }}\n",
    })
    result = check(book)
    assert result.exit_code == 78
    assert "templates/_hello.j2:2:4: 'contact.nickname' is not a column" in result.stderr
    assert "'first' is not defined" not in result.stderr


def test_a_missing_include_is_an_error(book):
    (book / "templates" / "thanks.j2").write_text("Subject: Hi\n\n{% include '_sig.j2' %}\n")
    result = check(book)
    assert result.exit_code == 78
    assert ("templates/thanks.j2:3: includes '_sig.j2', which is not a template of the book"
            in result.stderr)


def test_a_template_no_playbook_uses_gets_warnings(book):
    (book / "templates" / "spare.j2").write_text("{{ contact.nickname }} {{ nickname }}\n")
    result = check(book, "--json")
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    spare = [w for w in warnings if "spare.j2" in w["source"]]
    assert [(w["source"], w["message"]) for w in spare] == [
        ("templates/spare.j2:1:4", "'contact.nickname' is not a column of the ledger"),
        ("templates/spare.j2:1:27", "'nickname' is not defined")]
    assert check(book, "--strict").exit_code == 1


def test_html_twins_are_linted_too(book):
    build_tree(book / "templates", {
        "thanks.html.j2": "Subject: no\n<p>{{ contact.nickname }}</p>\n",
        "orphan.email.html.j2": "<p>x</p>\n",
    })
    result = check(book)
    assert result.exit_code == 78
    assert "templates/thanks.html.j2:2:7: 'contact.nickname' is not a column" in result.stderr
    assert ("templates/thanks.html.j2:1: warning: an HTML twin holds the body only; the subject "
            "comes from 'thanks.j2'") in result.stderr
    assert ("templates/orphan.email.html.j2: warning: HTML twin of 'orphan.email.j2', which does "
            "not exist") in result.stderr


def test_a_contact_that_needs_a_missing_variant_is_an_error(book):
    # `optout` (Karin Lund) has no email: her decide-1 (email) falls back to a call, and the
    # thanks template is written for email only.
    (book / "templates" / "thanks.j2").unlink()
    (book / "templates" / "thanks.email.j2").write_text("Subject: Hi\n\nHello\n")
    result = check(book)
    assert result.exit_code == 78
    assert ("playbooks/new-lead.yaml:13:9: contact 'optout' needs a call variant of template "
            "'thanks' for the next touch (decide-1 on 2026-11-02): neither thanks.call.j2 nor "
            "thanks.j2 exists\n  hint: add templates/thanks.call.j2") in result.stderr
    assert ("warning: step 'decide-1' of playbook 'new-lead': template 'thanks' has no variant "
            "for call, a channel it may fall back to") in result.stderr


def test_an_email_without_subject_for_a_next_touch_is_an_error(book):
    (book / "templates" / "thanks.j2").write_text("Hello {{ contact.name }}\n")
    result = check(book)
    assert result.exit_code == 78
    assert ("templates/thanks.j2:1: contacts 'd1', 'new' need an email variant of template "
            "'thanks' for the next touch (decide-1 on 2026-11-23): templates/thanks.j2 does not "
            "begin with a `Subject:` line") in result.stderr
    assert ("warning: step 'decide-1' of playbook 'new-lead': template 'thanks' has no variant "
            "for email, its channel:") in result.stderr


def test_today_decides_which_touch_is_next(book):
    # by June, d1's decision window is over; `new` is enrolled on the day `run` first sees it
    (book / "templates" / "thanks.j2").write_text("Hello {{ contact.name }}\n")
    later = invoke("-C", book, "check", "--today", "2027-06-01")
    assert later.exit_code == 78
    assert ("contact 'new' needs an email variant of template 'thanks' for the next touch "
            "(decide-1 on 2027-06-02)") in later.stderr


def test_bad_today_is_usage(book):
    result = invoke("-C", book, "check", "--today", "tomorrow")
    assert result.exit_code == 2
    assert "--today: expected a date as YYYY-MM-DD, got 'tomorrow'" in result.stderr


@pytest.mark.parametrize("text", ["", "[]\n", "# no contacts yet\n"])
def test_a_yaml_ledger_without_contacts_says_nothing_of_the_templates_columns(book, text):
    """A YAML ledger with no contacts has no columns to judge templates by (a CSV one has its
    header): `check` passes and counts 0 contacts, instead of an error for each
    `contact.name` the templates use."""
    os.remove(book / "contacts.csv")
    (book / "contacts.yaml").write_text(text, encoding="utf-8")
    with open(book / "cadence.yaml", "a", encoding="utf-8") as config:
        config.write("\nledger: contacts.yaml\n")
    result = check(book)
    assert result.exit_code == 0, result.output
    assert ", 0 contacts;" in result.stdout and "is not a column" not in result.output
    # with one contact, its columns are the ledger's again: the templates' uses are judged
    (book / "contacts.yaml").write_text("- id: c1\n  email: c1@example.com\n", encoding="utf-8")
    assert "'contact.name' is not a column of the ledger" in check(book).output


# --- the `date` filter's written-out format and locale ------------------------------------------

def test_a_date_format_or_locale_every_rendering_refuses_is_an_error(book):
    """`check` tries a `date` filter's constant format and locale as each rendering would: a
    time pattern or an unknown locale stops every `run` that drafts the template (exit 78), so
    `check` says so first, with each filter's own column."""
    (book / "templates" / "thanks.j2").write_text(
        "Subject: Hi {{ contact.name }}\n\n"
        "Until {{ touch.due | date('d MMMM', locale='sv') }}, at {{ touch.due | date('HH:mm') }}"
        " or {{ touch.due | date('d MMMM', 'zz') }}.\n")
    result = check(book)
    assert result.exit_code == 78
    assert ("templates/thanks.j2:3:72: date: the format 'HH:mm' asks for a time; it formats "
            "dates only\n  hint: every rendering of this template would stop here") in result.stderr
    assert ("templates/thanks.j2:3:107: date: unknown locale 'zz' (try 'en', 'ru', 'sv' or "
            "'de_AT')") in result.stderr
    assert "3:22" not in result.stderr  # the format and locale that render are fine
    assert "Traceback" not in result.output


@pytest.mark.parametrize("use", [
    "{{ touch.due | date }}",
    "{{ touch.due | date('long') }}",
    "{{ touch.due | date('d MMMM y', locale='ru') }}",
    "{{ touch.due | date(format='EEEE d MMMM', locale='uk') }}",
    "{{ touch.due | date(contact.name) }}",  # not a constant: only a rendering can tell
    "{{ touch.due | date('d MMMM', locale=contact.name) }}",
])
def test_date_filters_that_render_or_cannot_be_told_pass(book, use):
    (book / "templates" / "thanks.j2").write_text(f"Subject: Hi\n\n{use}\n")
    result = check(book, "--json")
    assert result.exit_code == 0, result.output
    assert not [w for w in json.loads(result.stdout)["warnings"] if "date:" in w["message"]]


def test_a_bad_date_format_in_a_template_no_playbook_uses_is_a_warning(book):
    (book / "templates" / "spare.j2").write_text("{{ today | date('hh:mm a') }}\n")
    result = check(book, "--json")
    assert result.exit_code == 0, result.output
    spare = [(w["source"], w["message"]) for w in json.loads(result.stdout)["warnings"]
             if "spare.j2" in w["source"]]
    assert spare == [("templates/spare.j2:1:12",
                      "date: the format 'hh:mm a' asks for a time; it formats dates only")]


def test_a_bad_date_filter_is_found_in_its_tag_not_in_the_text_beside_it(book):
    (book / "templates" / "thanks.j2").write_text(
        "Subject: Hi\n\nDue | date: {{ touch.due | date('HH:mm') }}\n")
    result = check(book)
    assert result.exit_code == 78
    assert "templates/thanks.j2:3:28: date: the format 'HH:mm' asks for a time" in result.stderr


def test_the_names_check_reads_are_jinjas_own_reading():
    """`check` compiles a template and reads the names it takes from the context in one pass
    of the code generator (cadence.bounds.names_read): the names are those Jinja's
    `meta.find_undeclared_variables` gives, for every template of the repository's books
    (each text once: the error cases' books copy the bundled ones)."""
    import glob

    from jinja2 import FileSystemLoader, meta

    from cadence.sandbox import environment

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = environment(FileSystemLoader(root))
    seen = set()
    for path in sorted(glob.glob(os.path.join(root, "**", "*.j2"), recursive=True)):
        with open(path, "rb") as handle:
            data = handle.read()
        if f"{os.sep}.venv{os.sep}" in path or data in seen:
            continue
        seen.add(data)
        try:
            source = data.decode("utf-8")
            expected = meta.find_undeclared_variables(env.parse(source))
            got = env.names_read(env.parse(source), "t.j2", path)
        except (UnicodeDecodeError, TemplateError):
            continue  # the error cases' broken templates: test_errors.py holds what check says
        assert got == expected, path
    assert len(seen) > 200
