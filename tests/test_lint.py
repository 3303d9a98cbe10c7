"""Each lint with a playbook that triggers it and one that does not."""
from __future__ import annotations

import pytest

from cadence.lint import LINTS, lint_playbook
from helpers import contact, d, playbook

GOOD = """
    channels: [email, call, letter]
    limits: {min_gap: 2 days, per_week: 3}
    phases:
      - name: decide
        until: 30 days
        steps:
          - {at: 1 day, channel: email, template: t1}
          - {at: 3 days, channel: email, template: t2}
          - {at: 6 days, channel: call, template: t3}
          - {at: 9 days, channel: email, template: t4}
          - {at: 13 days, channel: email, template: t5}
          - {at: 16 days, channel: letter, template: t6}
          - {at: 27 days, channel: email, template: t7}
      - name: learn
        until: 9 weeks
        every: 1 week
        channel: email
        templates: [l1, l2, l3, l4, l5]
      - name: remind
        every: 1 month
        channel: email
        template: monthly
    rules:
      - no_reply: 5 days
        after: [email]
        in: [decide]
        then: call
        template: nr
      - reply: stop
"""

VARIANTS = {
    "few-touches": ("          - {at: 16 days, channel: letter, template: t6}\n"
                    "          - {at: 27 days, channel: email, template: t7}\n", ""),
    "repeated-template": ("templates: [l1, l2, l3, l4, l5]", "templates: [l1, l2]"),
    "rare-touches": ("every: 1 month", "every: 2 months"),
    "no-reply-rule": ("      - reply: stop\n", ""),
    "no-cap": ("limits: {min_gap: 2 days, per_week: 3}", "limits: {min_gap: 2 days}"),
    "no-reply-without-in": ("        in: [decide]\n", ""),
}


def names(warnings):
    return sorted(w.message.rsplit("[", 1)[1].rstrip("]") for w in warnings)


def test_good_playbook_has_no_warning():
    assert lint_playbook(playbook(GOOD), [contact(playbook="p")]) == []


@pytest.mark.parametrize("lint", sorted(VARIANTS))
def test_each_lint_triggers(lint):
    old, new = VARIANTS[lint]
    text = GOOD.replace(old, new)
    assert text != GOOD
    warnings = lint_playbook(playbook(text))
    assert lint in names(warnings)
    assert all(w.warning and w.hint for w in warnings)


@pytest.mark.parametrize("lint", sorted(VARIANTS))
def test_each_lint_can_be_ignored(lint):
    old, new = VARIANTS[lint]
    text = GOOD.replace(old, new) + f"    ignore: [{lint}]\n"
    assert lint not in names(lint_playbook(playbook(text)))


def test_unreachable_channel():
    pb = playbook(GOOD)
    followers = [contact(id="a", playbook="p", address=""), contact(id="b", playbook="p", address="")]
    assert names(lint_playbook(pb, followers)) == ["unreachable-channel"]
    followers.append(contact(id="c", playbook="p"))
    assert lint_playbook(pb, followers) == []


@pytest.mark.parametrize("at, until, start", [
    ("30 days", "1 month", "2027-01-30"),  # Jan 30 + 1 month = Feb 28, + 30 days = Mar 1
    ("31 days", "1 month", "2027-01-29"),  # Jan 29 + 1 month = Feb 28
    ("2 months", "61 days", "2027-07-01"),  # July and August have 31 days each
    ("28 days", "1 month", None),  # no month is shorter
    ("4 weeks", "1 month", None),
    ("1 month", "31 days", None),  # no month is longer
    ("30 days", "30 days", None),  # one unit: the parser's comparison holds for every start
    ("1 month", "1 month", None),
])
def test_a_step_at_days_past_an_until_in_months_for_some_starts(at, until, start):
    """A step's `at` and its phase's `until` count from `started` (SPEC 4); in different units
    their order depends on the month, and a step dated past the phase's end is skipped (SPEC
    5). The parser compares them from one day; the lint scans starts from today on."""
    text = f"""
        channels: [email]
        phases:
          - name: decide
            until: {until}
            steps:
              - {{at: 1 day, channel: email, template: t1}}
              - {{at: {at}, channel: email, template: t2}}
          - name: keep
            every: 1 week
            channel: email
            templates: [k1, k2]
    """
    pb = playbook(text)
    found = [w for w in lint_playbook(pb, day=d("2027-01-01"))
             if "[step-past-until]" in w.message]
    if start is None:
        assert found == []
        return
    (warning,) = found
    assert f"for a contact started on {start} it falls on" in warning.message
    assert warning.source.line == 8 and warning.hint
    assert not [w for w in lint_playbook(playbook(text + "    ignore: [step-past-until]\n"),
                                         day=d("2027-01-01")) if "[step-past-until]" in w.message]


@pytest.mark.parametrize("country, today, said", [
    ("UA", "2026-12-03", True),  # the holidays package lists none from 2023 on
    ("UA", "2021-06-01", False),  # ... but it did before
    ("SE", "2026-12-03", False),
    ("UA, business_days: false", "2026-12-03", False),  # every day is a working day anyway
    ("UA, holidays: [2027-01-01]", "2026-12-03", False),  # the user listed them
])
def test_a_country_without_holidays_is_said(country, today, said):
    days = "" if "business_days" in country else "business_days: true, "
    text = GOOD + f"    calendar: {{{days}country: {country}}}\n"
    found = [w for w in lint_playbook(playbook(text), day=d(today)) if "[no-holidays]" in w.message]
    assert bool(found) == said
    assert not [w for w in lint_playbook(playbook(text + "    ignore: [no-holidays]\n"),
                                         day=d(today))
                if "[no-holidays]" in w.message]


LADDER = """
    rules:
      - {no_reply: 5 days, after: [email], then: call, template: c}
      - {no_reply: 7 days, after: [call], then: letter, template: l}
"""
SWAPPED = """
    rules:
      - {no_reply: 7 days, after: [call], then: letter, template: l}
      - {no_reply: 5 days, after: [email], then: call, template: c}
"""
OUT_OF_ORDER = ("warning: no_reply rule 1 (after {after}) comes before rule 2, which makes a "
                "touch by call: a touch a rule made is answered only by the rules after it, so "
                "rule 1 never answers it [ladder-order]")


@pytest.mark.parametrize("rules, after", [
    (LADDER, None),
    # README "The ladder": rule 1 answers only what comes before it, never rule 2's call
    (SWAPPED, "call"),
    (SWAPPED.replace("after: [call], ", ""), "any channel"),
    # in phases that never meet: rule 1 had nothing of rule 2's to answer
    (SWAPPED.replace("7 days, ", "7 days, in: [remind], ").replace("5 days, ",
                                                                   "5 days, in: [decide], "),
     None),
    # a pair that answers each other, a missed call by email and an unanswered email by a
    # call, has no order to climb in
    (SWAPPED.replace("then: letter", "then: email"), None),
])
def test_a_ladder_written_out_of_order_is_said(rules, after):
    text = GOOD.split("    rules:\n")[0] + rules.lstrip("\n") + "      - reply: stop\n"
    parsed = playbook(text)
    found = [str(w).split("\n")[0] for w in lint_playbook(parsed) if "[ladder-order]" in w.message]
    line = parsed.no_reply[0].source
    assert found == ([f"{line}: " + OUT_OF_ORDER.format(after=after)] if after else [])


def test_messages():
    text = GOOD.replace("      - reply: stop\n", "")
    (warning,) = lint_playbook(playbook(text))
    assert str(warning) == ("p.yaml:2:1: warning: no `reply` rule: a reply stops the contact "
                            "(the default) [no-reply-rule]\n  hint: say what a reply does: "
                            "`reply: stop`, `continue`, `pause 14 days` or `move <playbook>`")


def test_unknown_lint_in_ignore_is_an_error():
    from cadence.playbook import parse_playbook

    _, problems = parse_playbook("phases: [{name: a, every: 1 week, channel: email, template: x}]\n"
                                 "ignore: [few-touchs]\n", "p.yaml", "p")
    assert [str(p).split("\n")[0] for p in problems] == [
        "p.yaml:2:10: unknown lint 'few-touchs' (did you mean 'few-touches'?)"]


def test_every_lint_is_named():
    assert set(VARIANTS) | {"unreachable-channel", "stranded-contact", "pause-ahead",
                             "reply-ahead", "step-past-until", "renumbered-step",
                             "callback-passed", "optout-kept", "no-holidays",
                             "ladder-order", "same-email", "touch-ahead",
                             "ids-by-row-order"} == set(LINTS)


def test_check_reports_the_lints(tmp_path):
    import json
    import os
    import shutil

    from typer.testing import CliRunner

    from cadence.main import app

    book = tmp_path / "book"
    shutil.copytree(os.path.join(os.path.dirname(__file__), "books", "basic", "book"), book)
    result = CliRunner().invoke(app, ["-C", str(book), "check", "--json"])
    assert result.exit_code == 0
    messages = [w["message"] for w in json.loads(result.stdout)["warnings"]]
    assert "4 touches in the first 30 days [few-touches]" in messages
    strict = CliRunner().invoke(app, ["-C", str(book), "check", "--strict"])
    assert strict.exit_code == 1 and "[repeated-template]" in strict.stderr
    path = book / "playbooks" / "new-lead.yaml"
    path.write_text(path.read_text() + "ignore: [few-touches, repeated-template]\n")
    quiet = CliRunner().invoke(app, ["-C", str(book), "check", "--json"])
    assert not [m for m in json.loads(quiet.stdout)["warnings"] if "few-touches" in m["message"]]


@pytest.mark.parametrize("status, paused_until, warned", [
    ("active", "2026-11-20", True),  # typed active, the pause's end ahead: touches still wait
    ("Active", "2026-11-20", True),  # as the ledger reads it
    ("active", "2026-11-05", False),  # it ends today
    ("active", "2026-11-01", False),
    ("paused", "2026-11-20", False),  # a pause, as meant
    ("", "2026-11-20", False),  # no status typed: the journal may say paused
])
def test_a_pause_ahead_of_an_active_contact_is_warned_about(tmp_path, status, paused_until,
                                                            warned):
    named, quiet = _contact_lint(tmp_path, "pause-ahead", "status,paused_until",
                                 f"{status},{paused_until}")
    assert bool(named) == warned and not quiet


def _contact_lint(tmp_path, lint: str, columns: str, cells: str, journal: str = "") -> tuple:
    """`check --json` on the book of tests/errors/lint-LINT with one contact, ann, whose last
    columns are `columns` = `cells`: (the warnings named LINT, those left once the playbook
    ignores it)."""
    import json
    import os
    import shutil

    from typer.testing import CliRunner

    from cadence.main import app

    book = tmp_path / "book"
    shutil.copytree(os.path.join(os.path.dirname(__file__), "errors", f"lint-{lint}", "book"),
                    book)
    (book / "contacts.csv").write_text(f"id,name,email,playbook,started,{columns}\n"
                                       f"ann,Ann,ann@example.com,p,2026-11-01,{cells}\n")
    if journal:
        with open(book / "history.csv", "a", encoding="utf-8") as handle:
            handle.write(journal)

    def named():
        found = CliRunner().invoke(app, ["-C", str(book), "check", "--json", "--today",
                                         "2026-11-05"])
        return [w for w in json.loads(found.stdout)["warnings"] if f"[{lint}]" in w["message"]]

    warned = named()
    path = book / "playbooks" / "p.yaml"
    path.write_text(path.read_text().replace("ignore: [", f"ignore: [{lint}, "))
    return warned, named()


@pytest.mark.parametrize("status, last_reply, warned", [
    ("", "2026-11-20", True),  # typed ahead: the next run acts on it now, dated ahead
    ("won", "2026-11-20", True),  # whatever the status: the date is still a typo
    ("", "2026-11-05", False),  # today
    ("", "2026-11-04", False),
    ("", "", False),
])
def test_a_reply_typed_ahead_of_today_is_warned_about(tmp_path, status, last_reply, warned):
    """README, Semantics: a `last_reply` after today is acted on by the next run all the same;
    `check` says so at its cell."""
    named, quiet = _contact_lint(tmp_path, "reply-ahead", "status,last_reply",
                                 f"{status},{last_reply}")
    assert bool(named) == warned and not quiet
    if warned:
        column = len(f"ann,Ann,ann@example.com,p,2026-11-01,{status},") + 1
        assert named[0]["source"].endswith(f"contacts.csv:2:{column}")


@pytest.mark.parametrize("ignored", [False, True])
def test_a_step_renumbered_by_an_edit_is_named_unless_ignored(tmp_path, ignored):
    """README `renumbered-step`: the journal says ann got decide-1 with template `welcome`;
    the playbook's decide-1 now has `hello` (a step was added before it)."""
    import os
    import shutil

    from typer.testing import CliRunner

    from cadence.main import app

    here = os.path.join(os.path.dirname(__file__), "errors", "check-step-renumbered-by-an-edit")
    book = shutil.copytree(os.path.join(here, "book"), tmp_path / "book")
    if ignored:
        path = book / "playbooks" / "p.yaml"
        path.write_text(path.read_text().replace("no-cap]", "no-cap, renumbered-step]"))
    result = CliRunner().invoke(app, ["-C", str(book), "check", "--today", "2026-11-03"])
    assert result.exit_code == 0
    assert ("[renumbered-step]" in result.stderr) is not ignored


CALLBACKS = [
    # (case, ann's callback cell, journal rows after her email of 2026-11-02, --today, warned)
    ("agreed for the day of the touch", "2026-11-02T15:00", "", "2026-11-02", True),
    ("agreed for a day before it, typed in", "2026-11-01", "", "2026-11-02", True),
    ("a day after the touch: it comes", "2026-11-03", "", "2026-11-02", False),
    ("made on its day", "2026-11-02",
     "2026-11-02,ann,touch,p,callback,call,callback,call-back agreed for 2026-11-02\n",
     "2026-11-02", False),
    ("older than a week: an old cell, not a call to make", "2026-11-02", "", "2026-11-09",
     False),
    ("six days old: still named", "2026-11-02", "", "2026-11-08", True),
    ("the call made and logged by hand (`cadence log`)", "2026-11-02", "log", "2026-11-02",
     False),
]


@pytest.mark.parametrize("case, callback, rows, today, warned", CALLBACKS,
                         ids=[c[0] for c in CALLBACKS])
def test_a_call_back_that_is_never_made_is_named(tmp_path, case, callback, rows, today, warned):
    """README `callback-passed`: SPEC 5.1 makes a call-back only while the latest touch is
    before its day."""
    import os
    import shutil

    from typer.testing import CliRunner

    from cadence.main import app

    here = os.path.join(os.path.dirname(__file__), "errors", "check-callback-passed")
    book = shutil.copytree(os.path.join(here, "book"), tmp_path / "book")
    ledger = book / "contacts.csv"
    ledger.write_text(ledger.read_text().replace("2026-11-02T15:00", callback))
    if rows == "log":
        logged = CliRunner().invoke(app, ["-C", str(book), "log", "ann", "--channel", "call",
                                          "--today", today])
        assert logged.exit_code == 0, logged.output
    else:
        journal = book / "history.csv"
        journal.write_text(journal.read_text() + rows)
    result = CliRunner().invoke(app, ["-C", str(book), "check", "--today", today])
    assert result.exit_code == 0, result.output
    assert ("contact 'ann': call-back agreed for" in result.stderr) is warned
    if warned:
        path = book / "playbooks" / "p.yaml"
        path.write_text(path.read_text().replace("no-cap]", "no-cap, callback-passed]"))
        again = CliRunner().invoke(app, ["-C", str(book), "check", "--today", today])
        assert "[callback-passed]" not in again.stderr


@pytest.mark.parametrize("emails, playbooks, warned", [
    (("ann@example.com", "ann@example.com"), ("p", "p"), ["bob"]),
    (("ann@example.com", " ANN@Example.com "), ("p", "p"), ["bob"]),  # as an address reads
    (("ann@example.com", "bob@example.com"), ("p", "p"), []),
    (("", ""), ("p", "p"), []),  # no email: nothing to send twice
    (("ann@example.com", "ann@example.com"), ("p", ""), []),  # bob follows no playbook
])
def test_two_contacts_of_one_email_are_warned_about(tmp_path, emails, playbooks, warned):
    """`same-email`: one person entered twice gets each touch twice; the second row is named,
    and a playbook's `ignore` silences it."""
    import json
    import os
    import shutil

    from typer.testing import CliRunner

    from cadence.main import app

    book = shutil.copytree(os.path.join(os.path.dirname(__file__), "errors", "lint-same-email",
                                        "book"), tmp_path / "book")
    (book / "contacts.csv").write_text(
        "id,name,email,phone,playbook,started\n"
        f"ann,Ann,{emails[0]},+4670111,{playbooks[0]},2026-11-01\n"
        f"bob,Bob,{emails[1]},+4670222,{playbooks[1]},2026-11-01\n")

    def named():
        found = CliRunner().invoke(app, ["-C", str(book), "check", "--json", "--today",
                                         "2026-11-05"])
        return [w["message"].split("'")[3] for w in json.loads(found.stdout)["warnings"]
                if "[same-email]" in w["message"]]

    assert named() == warned
    path = book / "playbooks" / "p.yaml"
    path.write_text(path.read_text().replace("ignore: [", "ignore: [same-email, "))
    assert named() == []


@pytest.mark.parametrize("last_touch, journaled, warned", [
    ("2062-11-02", False, True),  # typed ahead: every step waits for a touch after it
    ("2026-11-05", False, False),  # today
    ("2026-11-02", False, False),
    ("2026-11-20", True, False),  # the journal's own row ahead: said once, for the journal
])
def test_a_last_touch_typed_ahead_of_today_is_warned_about(tmp_path, last_touch, journaled,
                                                           warned):
    named, quiet = _contact_lint(tmp_path, "touch-ahead", "touches,last_touch,last_channel",
                                 f"1,{last_touch},email")
    if journaled:
        named, quiet = _contact_lint(
            tmp_path / "journaled", "touch-ahead", "touches,last_touch,last_channel",
            f"1,{last_touch},email",
            journal=f"{last_touch},ann,touch,p,decide-1,email,hello,\n")
    assert bool(named) == warned and not quiet


def test_ids_made_in_row_order_are_warned_of_until_the_sheet_keeps_them(tmp_path):
    """README (`ids-by-row-order`): two rows of one name whose ids are made in row order, with
    a history: warned of, until the first run's `id` column is in the sheet; `ignore` silences
    it; one of the rows alone, a name that ends in a number, or rows without a history, are no
    warning."""
    import os
    import shutil

    from typer.testing import CliRunner

    from cadence.main import app

    def warned(book) -> bool:
        result = CliRunner().invoke(app, ["-C", str(book), "check", "--today", "2026-11-05"])
        assert result.exit_code == 0, result.output
        return "[ids-by-row-order]" in result.stderr

    here = os.path.join(os.path.dirname(__file__), "errors", "lint-ids-by-row-order", "book")
    book = shutil.copytree(here, tmp_path / "book")
    assert warned(book)
    sheet = book / "kunder.csv"
    lines = sheet.read_text().splitlines(keepends=True)
    sheet.write_text("".join(lines[:3]))  # one Olena
    assert not warned(book)
    sheet.write_text("".join(lines[:3]) + lines[3].replace("Olena", "Olena 2"))
    assert not warned(book)  # `olena-2` made of its own name, not numbered after `olena`
    sheet.write_text("".join(lines))
    history = book / "history.csv"
    kept = history.read_text()
    history.write_text(kept.splitlines(keepends=True)[0])  # no history yet
    assert not warned(book)
    history.write_text(kept)
    sheet.write_text("id," + lines[0] + "".join(f"{i}," + line for i, line in
                                               zip(("olena", "anna-lind", "olena-2"), lines[1:])))
    assert not warned(book)  # the ids are the sheet's own now
    sheet.write_text("".join(lines))
    playbook = book / "playbooks" / "p.yaml"
    playbook.write_text(playbook.read_text().replace("ignore: [", "ignore: [ids-by-row-order, "))
    assert not warned(book)
