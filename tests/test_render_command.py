"""`cadence render ID`: a contact's next draft on stdout, as `run` would write it; writes nothing."""
from __future__ import annotations

import email
import email.policy
import os
import shutil

import pytest
from typer.testing import CliRunner

from cadence.main import app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONSULTANT = os.path.join(ROOT, "examples", "consultant")
TODAY = "2026-11-23"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def files(root) -> dict:
    out = {}
    for base, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(base, name), "rb") as handle:
                out[os.path.relpath(os.path.join(base, name), root)] = handle.read()
    return out


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    target = tmp_path_factory.mktemp("render") / "book"
    shutil.copytree(CONSULTANT, target)
    return target


@pytest.fixture(scope="module")
def drafts(tmp_path_factory):
    """The drafts `run` writes on TODAY, by file name."""
    target = tmp_path_factory.mktemp("run") / "book"
    shutil.copytree(CONSULTANT, target)
    assert invoke("-C", target, "run", "--today", TODAY).exit_code == 0
    folder = target / "drafts" / TODAY
    return {name: (folder / name).read_bytes() for name in os.listdir(folder)}


@pytest.mark.parametrize("contact_id", ["c008", "c013", "c015", "c016", "c020", "c023"])
def test_raw_is_the_draft_run_writes(book, drafts, contact_id):
    before = files(book)
    result = invoke("-C", book, "render", contact_id, "--today", TODAY, "--raw")
    assert result.exit_code == 0, result.output
    name = next(n for n in drafts if n.startswith(contact_id + "--"))
    assert result.stdout_bytes == drafts[name]
    assert f", as {name}" in result.stderr
    assert files(book) == before


def test_email_is_shown_for_reading(book):
    result = invoke("-C", book, "render", "c023", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "From: Irina Holm <irina@holmadvisory.se>\n"
        "To: Виктор Лебедев <viktor@lebedevauto.se>\n"
        "Subject: Спасибо за обращение - и что будет дальше\n"
        "Date: Mon, 23 Nov 2026 09:00:00 +0100\n\n"
        "Здравствуйте, Виктор!\n")
    assert result.stderr.startswith("c023: decide-1 by email on 2026-11-23, from ")
    assert "templates/ru/new-lead/thanks.email.j2" in result.stderr


def test_html_part_is_shown_after_the_text(tmp_path):
    from helpers import build_tree

    book = tmp_path / "book"
    shutil.copytree(CONSULTANT, book)
    build_tree(book / "templates", {"sv/birthday.email.html.j2": "<p>Grattis {{ contact.name }}!</p>\n"})
    result = invoke("-C", book, "render", "c013", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("--- HTML part ---\n\n<p>Grattis Emma Karlsson!</p>")
    assert "sv/birthday.email.html.j2" in result.stderr
    raw = invoke("-C", book, "render", "c013", "--today", TODAY, "--raw").stdout_bytes
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"


def test_next_planned_touch_when_none_is_due(book):
    result = invoke("-C", book, "render", "c036", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("c036: proposal by email on 2026-11-24, ")
    assert "Date: Tue, 24 Nov 2026 09:00:00 +0100" in result.stdout


def test_a_paused_contact_shows_the_touch_after_the_pause(book):
    result = invoke("-C", book, "render", "c011", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("c011: remind-1 by email on 2027-01-11, ")


@pytest.mark.parametrize("contact_id,step,start", [
    ("c019", "decide-2", "c019: decide-2 by email on 2026-11-23, "),
    ("c019", "learn-3", "c019: learn-3 by email on 2026-11-23, "),
    ("c019", "offer", "c019: offer by letter on 2026-11-23, "),
    ("c009", "offer", "c009: offer by email on 2026-11-23, "),  # no address: the fallback
    ("c019", "callback", "c019: callback by call on 2026-11-23, "),
    ("c019", "no_reply", "c019: no_reply by call on 2026-11-23, "),
    ("c009", "no_reply", "c009: no_reply by email on 2026-11-23, "),  # opted out of calls
    ("c019", "birthday", "c019: birthday by email on 2026-11-23, "),
])
def test_step_renders_that_step(book, contact_id, step, start):
    result = invoke("-C", book, "render", contact_id, "--step", step, "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(start)
    assert result.stdout.strip()


def test_numbered_no_reply_rules(book):
    result = invoke("-C", book, "render", "c014", "--step", "no_reply-2", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("c014: no_reply by letter on 2026-11-23, ")
    assert "as c014--no_reply.md" in result.stderr


def test_unknown_step_is_usage_with_the_steps_listed(book):
    result = invoke("-C", book, "render", "c009", "--step", "decide-9", "--today", TODAY)
    assert result.exit_code == 2
    assert result.stderr == (
        "--step: playbook 'new-lead' has no step 'decide-9'\n"
        "  hint: did you mean 'decide-5'? steps: decide-1, decide-2, decide-3, decide-4, "
        "decide-5, offer, offer-call, last-call, learn-N, remind-N, callback, no_reply, birthday\n")
    assert result.stdout == ""


def test_unknown_contact_is_65(book):
    result = invoke("-C", book, "render", "c0099", "--today", TODAY)
    assert result.exit_code == 65
    assert "unknown contact 'c0099'" in result.stderr and "did you mean 'c009'?" in result.stderr
    assert "Traceback" not in result.output


def test_no_playbook_and_nothing_planned_exit_1(book):
    none = invoke("-C", book, "render", "c024", "--today", TODAY)
    assert none.exit_code == 1
    assert "contacts.csv:35:58: contact 'c024' follows no playbook: no draft to render" in none.stderr
    won = invoke("-C", book, "render", "c002", "--today", TODAY)
    assert won.exit_code == 1
    assert "contact 'c002' has no touch planned: status won" in won.stderr
    assert "hint: --step STEP renders a step of the playbook anyway" in won.stderr
    anyway = invoke("-C", book, "render", "c002", "--step", "decide-1", "--today", TODAY)
    assert anyway.exit_code == 0, anyway.output


def test_template_error_is_reported_like_run(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(CONSULTANT, book)
    (book / "templates" / "sv" / "birthday.email.j2").write_text(
        "Subject: Grattis\n\n{{ contact.nickname }}\n", encoding="utf-8")
    result = invoke("-C", book, "render", "c013", "--today", TODAY)
    assert result.exit_code == 78
    assert "birthday.email.j2:3: " in result.stderr
    assert "(contact c013, step birthday)" in result.stderr and "Traceback" not in result.output


def test_quiet_prints_only_the_draft(book):
    result = invoke("-C", book, "render", "c016", "--today", TODAY, "--quiet")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.startswith("# Call: Gustav Ek\n")


def test_help():
    result = invoke("render", "--help")
    assert result.exit_code == 0 and "--step" in result.stdout and "--raw" in result.stdout


@pytest.mark.parametrize("day, subject", [
    ("2026-11-23", "Grattis på födelsedagen, Emma!"),  # her birthday
    ("2026-11-25", "Grattis i efterskott på födelsedagen, Emma!"),  # two days on: belated
    ("2026-11-20", "Grattis på födelsedagen, Emma!"),  # a greeting ahead is not belated
])
def test_a_birthday_previewed_on_another_day_reads_as_a_run_would_write_it(book, day, subject):
    """`render --step birthday` gives the touch the detail a run gives it (`birthday on` this
    year's day), so the bundled templates' belated wording shows as it will be sent."""
    result = invoke("-C", book, "render", "c013", "--step", "birthday", "--today", day)
    assert result.exit_code == 0, result.output
    assert f"\nSubject: {subject}\n" in result.stdout


def test_a_long_name_split_across_encoded_words_reads_whole():
    """A name with its patronymic (`Кравченко Олексій Петрович`) is written in two encoded
    words, split where the line's 76 characters end, maybe mid-word; `render` shows it as mail
    programs do, the words joined (RFC 2047 section 6.2), not `Петро вич`."""
    from datetime import datetime, timezone

    from cadence import emails
    from cadence.commands.render import readable

    name = "Кравченко Олексій Петрович"
    data = emails.build(("Єва Мар'яненко", "eva@example.ua"), (name, "o.k@example.ua"),
                        "Щодо нашої розмови про " + "довгу тему " * 8,
                        datetime(2026, 12, 8, 9, tzinfo=timezone.utc), "<m@example.ua>", [],
                        "Добрий день!", None)
    assert b"\n =?utf-8?b?" in data  # the name is folded into a second encoded word
    shown = readable(data).splitlines()
    assert shown[0] == "From: Єва Мар'яненко <eva@example.ua>"
    assert shown[1] == f"To: {name} <o.k@example.ua>"
    assert shown[2] == "Subject: Щодо нашої розмови про " + " ".join(["довгу тему"] * 8)
