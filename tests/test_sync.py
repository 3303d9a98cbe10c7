"""`cadence sync` and `cadence push` over a Maildir++ tree (SPEC section 10): what each kind of
message writes to the journal and the ledger, what follows for the ladder, what `due` notices,
and what sync never does. No server: these are the quick ones; tests/test_sync_imap.py runs
the same against Dovecot, with the network's failures.

Each test names the SPEC section 10 row or sentence it proves. The book (tests/mailbook.py):
contacts c1 Jonas Ek, c2 Karin Dahl, c3 Anna Berg, each sent decide-1 by email on 2026-12-02;
the playbook's `no_reply` rule plans a call 5 days later (2026-12-07); `reply: stop`.
"""
from __future__ import annotations

import email
import hashlib
import json
import os
import random
import shutil
import time

import pytest

from mail.maildir import make_maildir
from mail.messages import HYPERLINK, INJECTED, make
from mailbook import (AFTER, ANNA_MAIL, DRAFTED, HEADER, JONAS, JONAS_MAIL, KARIN_MAIL, LEDGER,
                      PLAYBOOK, redraft_mended,
                      SUBJECT, UTC, at, book_files, cadence, cells, draft_id, due_json,
                      expected_json, expected_rows, journal, ledger, make_book, maildir_section,
                      mid, morning, new_lines, plan_json, row_of, sync, tree_state)

CALL_ON_THE_7TH = ("2026-12-07", "no_reply", "call", "no_reply")


@pytest.fixture
def tree(tmp_path):
    return make_maildir(tmp_path / "Mail")


@pytest.fixture
def book(tmp_path, tree):
    return make_book(tmp_path / "book", maildir_section())


def one_book(tmp_path, ledger_text: str, name: str = "book", mail: bool = True) -> str:
    return make_book(tmp_path / name, maildir_section() if mail else "", ledger=ledger_text)


def synced_lines(book, today: str = AFTER, *args) -> list:
    before = journal(book)
    sync(book, today, *args)
    return new_lines(before, journal(book))


# --- replies ------------------------------------------------------------------------------------

def test_a_threaded_reply_is_the_contacts_reply_and_acts_by_the_reply_rule(book, tree):
    """Row 1: a message whose In-Reply-To names a Message-ID cadence made is a `reply`, dated
    by its Date in the book's timezone, channel email; sync sets `last_reply` and acts as
    `cadence reply` does (reply: stop -> replied). The sender's address is no contact's."""
    data = make("outlook_reply", from_addr="jonas.privat@example.net",
                in_reply_to=draft_id("c1"), date=at("2026-12-03", 23, 30))
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,c1,reply,p,,email,,{mid(data)} RE: {SUBJECT}",
        "2026-12-03,c1,status,p,,,,replied (a reply by email)",
    ]
    row = row_of(book, "c1")
    assert (row["status"], row["last_reply"], row["next_due"]) == ("replied", "2026-12-03", "")
    assert plan_json(book, "c1", AFTER) == []


def test_a_reply_found_after_the_run_drafted_the_next_touch_is_warned_about(book, tree):
    """The morning's `sync && run` drafted decide-1; replies come in that afternoon. Jonas
    writes anew (his email may still wait in the drafts folder): sync says to take it back.
    Karin answers the draft itself, and Anna's went out (its copy in the sent folder):
    nothing to say about theirs."""
    tree.add("INBOX", make("stranger", from_addr=JONAS_MAIL, from_name="Jonas Ek",
                           date=at(DRAFTED, 15, 0)))
    tree.add("INBOX", make("gmail_reply", from_addr=KARIN_MAIL, in_reply_to=draft_id("c2"),
                           date=at(DRAFTED, 15, 5)))
    drafts = drafts_of(book)
    anna = next(data for name, data in drafts.items() if name.startswith("c3"))
    tree.add("Sent", anna)
    tree.add("INBOX", make("gmail_reply", from_addr=ANNA_MAIL, in_reply_to="<x@elsewhere>",
                           date=at(DRAFTED, 15, 10)))
    result = sync(book, DRAFTED)
    assert [line for line in result.stdout.splitlines() if "warning" in line] == [CROSSED]
    quiet = cadence(book, "sync", "--today", DRAFTED, "--json")  # nothing new: no warning
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr


CROSSED = ("warning: Jonas Ek replied (2026-12-02); the decide-1 email of 2026-12-02, drafted "
           "before sync found the reply, may still go out: if it has not, take it back with "
           "`cadence undo c1` and delete any copy in your drafts folder")


@pytest.mark.parametrize("replied, today, warned", [
    ("2026-12-03", "2026-12-03", True),  # the next morning: yesterday's draft may still wait
    ("2026-12-01", "2026-12-03", True),  # a reply before the draft, found late: the run did not know
    ("2026-12-05", "2026-12-05", False),  # the touch is three days old: gone out, or not lately
])
def test_a_reply_crosses_a_draft_of_today_or_yesterday(book, tree, replied, today, warned):
    tree.add("INBOX", make("stranger", from_addr=JONAS_MAIL, from_name="Jonas Ek",
                           date=at(replied, 9, 0)))
    lines = [line for line in sync(book, today).stdout.splitlines() if "warning" in line]
    assert lines == ([CROSSED.replace("replied (2026-12-02)", f"replied ({replied})")]
                     if warned else [])
    assert "c1,reply" in journal(book)


def test_a_reply_that_goes_on_with_the_playbook_leaves_its_draft_wanted(tmp_path):
    """`reply: continue`: the contact goes on with its steps, so the day's step is still
    wanted and nothing is said; a `no_reply` rung drafted that day is not (the reply answers
    it), and is warned about."""
    continuing = PLAYBOOK.replace("  - reply: stop", "  - reply: continue")
    book = make_book(tmp_path / "book", maildir_section(),
                     overrides={"playbooks/p.yaml": continuing})
    tree = make_maildir(tmp_path / "Mail")
    tree.add("INBOX", make("stranger", from_addr=JONAS_MAIL, from_name="Jonas Ek",
                           date=at(DRAFTED, 15, 0)))
    assert "warning" not in sync(book, DRAFTED).stdout
    assert cadence(book, "run", "--today", "2026-12-07", "--quiet").exit_code == 0
    tree.add("INBOX", make("stranger", from_addr=KARIN_MAIL, from_name="Karin Dahl",
                           date=at("2026-12-07", 16, 0)))
    lines = [line for line in sync(book, "2026-12-07").stdout.splitlines() if "warning" in line]
    assert lines == ["warning: Karin Dahl replied (2026-12-07); the no_reply call of 2026-12-07, "
                     "drafted before sync found the reply, may still go out: if it has not, "
                     "take it back with `cadence undo c2`"]


@pytest.mark.parametrize("in_reply_to, references", [
    (None, None),  # In-Reply-To names c1's draft
    ("<unknown.1@elsewhere.example>", ["<unknown.1@elsewhere.example>", "DRAFT"]),
], ids=["in-reply-to", "references"])
def test_threading_wins_over_the_sender_address(book, tree, in_reply_to, references):
    """Order of weighing: threading (In-Reply-To/References), which wins over the address.
    Karin (c2) writes in Jonas's (c1) thread: the reply is Jonas's."""
    refs = [draft_id("c1") if r == "DRAFT" else r for r in references] if references else None
    fields = {"in_reply_to": in_reply_to or draft_id("c1")}
    if refs:
        fields["references"] = refs
    data = make("gmail_reply", from_addr=KARIN_MAIL, **fields)
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,c1,reply,p,,email,,{mid(data)} Re: {SUBJECT}",
        "2026-12-03,c1,status,p,,,,replied (a reply by email)",
    ]
    assert row_of(book, "c2")["status"] == ""


def test_threading_on_a_changed_sender_domain_still_finds_the_touch(book, tree):
    """"match on its part before @, so a changed sender.email keeps old threads"."""
    key = draft_id("c1").strip("<>").split("@")[0]
    data = make("gmail_reply", from_addr="someone@else.example",
                in_reply_to=f"<{key}@old-domain.example>")
    tree.add("INBOX", data)
    assert synced_lines(book)[0] == f"2026-12-03,c1,reply,p,,email,,{mid(data)} Re: {SUBJECT}"


@pytest.mark.parametrize("sender", [ANNA_MAIL, "Anna.Berg@GMAIL.com"])
def test_a_reply_by_the_senders_address_in_any_case(book, tree, sender):
    """Row 1: "a message from a contact's `email` (any case)". The harness's reply answers a
    Message-ID cadence did not make: only the address ties it to Anna (c3)."""
    data = make("gmail_reply", from_addr=sender)
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,c3,reply,p,,email,,{mid(data)} Re: {SUBJECT}",
        "2026-12-03,c3,status,p,,,,replied (a reply by email)",
    ]


def test_the_address_matches_only_mail_dated_from_started(tmp_path, tree):
    """"the sender's address, which matches an enrolled contact only for mail dated on or
    after its started": Lars starts on 2026-12-04; his mail of the 3rd is left alone, that of
    the 4th is his reply. Mail from a contact who follows no playbook is left alone."""
    lars = "c4,Lars Holm,lars.holm@nordbygg.example,,,p,2026-12-04\n"
    idle = "c5,Åsa Öberg,asa.oberg@bygghandel.example,,,,\n"
    book = one_book(tmp_path, HEADER + JONAS + lars + idle)
    before_start = make("stranger", date=at("2026-12-03"))
    on_start = make("stranger", date=at("2026-12-04", 8, 0), subject="A second question")
    tree.add("INBOX", before_start)
    tree.add("INBOX", on_start)
    tree.add("INBOX", make("swedish_reply"))  # from Åsa, not enrolled
    assert synced_lines(book, "2026-12-05") == [
        f"2026-12-04,c4,reply,p,,email,,{mid(on_start)} A second question",
        "2026-12-04,c4,status,p,,,,replied (a reply by email)",
    ]


@pytest.mark.parametrize("order, owner", [(["c1", "c9"], "c1"), (["c9", "c1"], "c9")])
def test_several_contacts_with_one_address_the_first_in_the_ledger(tmp_path, tree, order, owner):
    """"several contacts with one address: the first in the ledger"."""
    rows = {"c1": JONAS, "c9": f"c9,Jonas Ek (home),{JONAS_MAIL},,,p,2026-12-01\n"}
    book = one_book(tmp_path, HEADER + "".join(rows[c] for c in order))
    data = make("outlook_reply")  # from Jonas, answering no draft of this book
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,{owner},reply,p,,email,,{mid(data)} RE: {SUBJECT}",
        f"2026-12-03,{owner},status,p,,,,replied (a reply by email)",
    ]


def test_a_reply_that_crossed_a_later_touch_still_acts(tmp_path, tree):
    """Row 1: "also when the reply is dated before last_touch (it crossed a later touch)".
    Jonas answered on the 3rd; the call of the 7th was made before sync saw it."""
    book = one_book(tmp_path, HEADER + JONAS)
    assert cadence(book, "run", "--today", "2026-12-07").exit_code == 0
    assert row_of(book, "c1")["last_touch"] == "2026-12-07"
    data = make("outlook_reply", in_reply_to=draft_id("c1"))
    tree.add("INBOX", data)
    assert synced_lines(book, "2026-12-08") == [
        f"2026-12-03,c1,reply,p,,email,,{mid(data)} RE: {SUBJECT}",
        "2026-12-03,c1,status,p,,,,replied (a reply by email)",
    ]
    row = row_of(book, "c1")
    assert (row["status"], row["last_reply"], row["next_due"]) == ("replied", "2026-12-03", "")


@pytest.mark.parametrize("rule, decided, kept", [
    ("reply: pause 14 days", "paused until 2026-12-17", ["status", "paused_until", "last_reply"]),
    # `stop` sets the status alone: the pause's date stays in the row, which the journal
    # does not say again (README, Semantics: "A pause's date")
    ("reply: stop", "replied", ["status", "last_reply"]),
])
def test_a_reply_found_after_a_later_status_is_decided_on_the_day_of_the_sync(tmp_path, tree,
                                                                              rule, decided, kept):
    """Row 1 with SPEC 9: Jonas paused until the 5th; the run of the 5th ended the pause; his
    reply of the 3rd, found on the 8th, is decided then. Its status row is dated the 8th: dated
    the 3rd, the row of the 5th would outlive it in a row rebuilt from the journal."""
    book = make_book(tmp_path / "book", maildir_section(), ledger=HEADER + JONAS,
                     overrides={"playbooks/p.yaml": PLAYBOOK.replace("reply: stop", rule)})
    assert cadence(book, "pause", "c1", "--until", "2026-12-05", "--today", "2026-12-02"
                   ).exit_code == 0
    assert cadence(book, "run", "--today", "2026-12-05").exit_code == 0
    data = make("outlook_reply", date=at("2026-12-03"))
    tree.add("INBOX", data)
    assert synced_lines(book, "2026-12-08") == [
        f"2026-12-03,c1,reply,p,,email,,{mid(data)} RE: {SUBJECT}",
        f"2026-12-08,c1,status,p,,,,{decided} (a reply by email)",
    ]
    lived = row_of(book, "c1")
    with open(os.path.join(book, "contacts.csv"), "w", encoding="utf-8") as handle:
        handle.write(HEADER + JONAS)  # downloaded again: no state cells
    assert cadence(book, "run", "--today", "2026-12-08").exit_code == 0
    rebuilt = row_of(book, "c1")
    assert {c: rebuilt[c] for c in kept} == {c: lived[c] for c in kept}
    assert rebuilt["next_due"] == lived["next_due"]


def test_last_reply_never_moves_back(tmp_path, tree):
    """Row 1: "sets the contact's last_reply (never moving it back)". Two replies, the later
    one read first (a reply-all landed in Junk, dated after)."""
    book = one_book(tmp_path, HEADER + JONAS)
    late = make("outlook_reply", date=at("2026-12-05"), subject="Second thoughts")
    early = make("outlook_reply", date=at("2026-12-03"))
    tree.add("INBOX", late)
    sync(book, "2026-12-05")
    tree.add("INBOX", early)
    lines = synced_lines(book, "2026-12-05")
    assert lines == [f"2026-12-03,c1,reply,p,,email,,{mid(early)} RE: {SUBJECT}"]
    assert row_of(book, "c1")["last_reply"] == "2026-12-05"


# --- the junk folder ---------------------------------------------------------------------------

JUNK_WARNING = ("warning: a reply from Jonas Ek is in your junk folder (2026-12-03): move it to "
                "the inbox, and tell your mail program it is not spam")


def test_a_reply_in_junk_is_a_reply_and_sync_says_so_while_it_stays_there(book, tree):
    """Row 2: "reply, and its note begins junk:"; "each sync lists it ... while it stays
    there"; once moved to the inbox, no warning and no second row."""
    data = make("junk_reply")
    path = tree.add("Junk", data, flags="S")
    first = sync(book)
    assert new_lines(LEDGER_JOURNAL_AFTER_RUN, journal(book)) == [
        f"2026-12-03,c1,reply,p,,email,,junk: {mid(data)} Re: {SUBJECT}",
        "2026-12-03,c1,status,p,,,,replied (a reply by email)",
    ]
    assert JUNK_WARNING in first.stdout.splitlines()
    kept = journal(book)
    again = sync(book)
    assert journal(book) == kept
    assert JUNK_WARNING in again.stdout.splitlines()
    quiet = sync(book, AFTER, "-q")
    assert (quiet.stdout, quiet.stderr) == ("", JUNK_WARNING + "\n")
    as_json = sync(book, AFTER, "--json")
    assert json.loads(as_json.stdout) == {"today": AFTER, "found": []}
    assert as_json.stderr == JUNK_WARNING + "\n"
    os.rename(path, tree.folder("INBOX") / "cur" / path.name)  # the user moved it
    moved = sync(book)
    assert journal(book) == kept
    assert "your junk folder" not in moved.stdout
    assert moved.stderr == ""


LEDGER_JOURNAL_AFTER_RUN = (
    "date,contact,event,playbook,step,channel,template,note\n"
    "2026-12-01,c1,status,p,,,,started (set in the ledger)\n"
    "2026-12-02,c1,touch,p,decide-1,email,hello,\n"
    "2026-12-01,c2,status,p,,,,started (set in the ledger)\n"
    "2026-12-02,c2,touch,p,decide-1,email,hello,\n"
    "2026-12-01,c3,status,p,,,,started (set in the ledger)\n"
    "2026-12-02,c3,touch,p,decide-1,email,hello,\n")


def test_the_books_journal_after_run(book):
    """The starting point every expected row in this module follows."""
    assert journal(book) == LEDGER_JOURNAL_AFTER_RUN


@pytest.mark.parametrize("today, listed", [
    ("2026-12-03", True), ("2026-12-09", True), ("2026-12-10", False), ("2026-12-20", False),
])
def test_due_notices_a_junk_reply_journaled_in_the_last_7_days(book, tree, today, listed):
    """Row 2: "due lists junk replies journaled in the last 7 days under notices"."""
    tree.add("Junk", make("junk_reply"))
    sync(book)
    notice = {"contact": "c1", "kind": "junk-reply", "date": "2026-12-03",
              "text": "a reply from Jonas Ek went to your junk folder (2026-12-03): if it is "
                      "still there, move it to the inbox, and tell your mail program it is not "
                      "spam"}
    notices = due_json(book, today).get("notices", [])
    assert [n for n in notices if n["kind"] == "junk-reply"] == ([notice] if listed else [])
    table = cadence(book, "due", "--today", today).stdout
    assert (f"  2026-12-03  c1  {notice['text']}" in table.splitlines()) == listed


# --- automatic answers --------------------------------------------------------------------------

AUTOMATIC = ["autoreply_exchange", "autoreply_x_autoreply", "autoreply_x_autorespond",
             "autoreply_precedence"]


@pytest.mark.parametrize("kind", AUTOMATIC)
def test_an_automatic_answer_is_no_reply_and_the_ladder_goes_on(book, tree, kind):
    """Row 3: Auto-Submitted other than no, X-Autoreply, X-Autorespond, Precedence:
    auto_reply -> `autoreply`, "not a reply: the ladder goes on" (the call of the 7th)."""
    data = make(kind, from_addr=KARIN_MAIL, in_reply_to=draft_id("c2"))
    tree.add("INBOX", data)
    subject = email.header.make_header(email.header.decode_header(
        email.message_from_bytes(data)["Subject"]))
    assert synced_lines(book) == [f"2026-12-03,c2,autoreply,p,,email,,{mid(data)} {subject}"]
    row = row_of(book, "c2")
    assert (row["status"], row.get("last_reply", ""), row["next_due"]) == ("", "", "2026-12-07")
    assert plan_json(book, "c2", AFTER)[0] == CALL_ON_THE_7TH
    due = [(d["contact"], d["step"]) for d in due_json(book, "2026-12-07")["due"]]
    assert ("c2", "no_reply") in due


def test_auto_submitted_no_is_a_person_writing(book, tree):
    """Row 3: "Auto-Submitted other than `no`": `no` is a reply."""
    data = make("auto_submitted_no", in_reply_to=draft_id("c2"))
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,c2,reply,p,,email,,{mid(data)} Re: {SUBJECT}",
        "2026-12-03,c2,status,p,,,,replied (a reply by email)",
    ]
    assert plan_json(book, "c2", AFTER) == []


# --- delivery reports --------------------------------------------------------------------------

BOUNCES = [
    pytest.param("postfix_bounce", {}, "Undelivered Mail Returned to Sender", id="postfix"),
    pytest.param("postfix_bounce", {"returned": "message"}, "Undelivered Mail Returned to Sender",
                 id="postfix-whole-message"),
    pytest.param("gmail_bounce", {}, "Delivery Status Notification (Failure)", id="gmail"),
]


@pytest.mark.parametrize("kind, fields, subject", BOUNCES)
def test_a_bounce_makes_email_unusable_and_brings_the_next_rung_forward(book, tree, kind,
                                                                        fields, subject):
    """Row 4: `bounce`, channel email, note ending `[address A]`; "the contact cannot be
    reached by email"; "a no_reply rule that answers an email falls on the earlier of its
    duration and the day after the bounce". The next email step falls back as the playbook
    says: decide-2 to a letter, decide-3 (`fallback: skip`) skipped."""
    data = make(kind, in_reply_to=draft_id("c1"), **fields)
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,c1,bounce,p,,email,,{mid(data)} {subject} [address {JONAS_MAIL}]"]
    assert row_of(book, "c1")["next_due"] == "2026-12-04"
    assert plan_json(book, "c1", AFTER) == [
        ("2026-12-04", "no_reply", "call", "no_reply"), ("2026-12-15", "decide-2", "letter", "step")]
    assert plan_json(book, "c2", AFTER)[:2] == [
        CALL_ON_THE_7TH, ("2026-12-15", "decide-2", "email", "step")]  # not Karin's
    before = journal(book)
    for day in ("2026-12-04", "2026-12-15", "2026-12-22"):
        assert cadence(book, "run", "--today", day).exit_code == 0
    mine = [line for line in new_lines(before, journal(book)) if ",c1," in line]
    assert mine == [
        "2026-12-04,c1,touch,p,no_reply,call,call,the email of 2026-12-02 bounced on 2026-12-03",
        "2026-12-15,c1,touch,p,decide-2,letter,hello,",
        "2026-12-22,c1,skip,p,decide-3,,hello,no allowed channel: the email address bounced; no "
        "fallback",
    ]


def test_a_bounce_found_by_its_final_recipient(book, tree):
    """Row 4: a report "naming a cadence Message-ID or a contact's address": this one returns
    a message cadence did not make, to Karin's address."""
    data = make("postfix_bounce", recipient=KARIN_MAIL)
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,c2,bounce,p,,email,,{mid(data)} Undelivered Mail Returned to Sender "
        f"[address {KARIN_MAIL}]"]


@pytest.mark.parametrize("anna_failed", [True, False])
def test_a_bounce_of_an_email_sent_by_hand_to_two_contacts(book, tree, anna_failed):
    """Row 4 ("naming ... a contact's address"): the user wrote to Karin and Anna by hand, and
    both addresses failed: a bounce for each, one sync or two. An address the report does not
    say failed did not bounce."""
    data = make("postfix_bounce", recipient=KARIN_MAIL)
    block = (f"Final-Recipient: rfc822; {KARIN_MAIL}").encode()
    anna = (f"Final-Recipient: rfc822; {ANNA_MAIL}\r\nOriginal-Recipient: rfc822;{ANNA_MAIL}"
            f"\r\nAction: {'failed' if anna_failed else 'delivered'}\r\nStatus: "
            f"{'5.1.1' if anna_failed else '2.0.0'}\r\n\r\n").encode()
    assert data.count(block) == 1
    data = data.replace(block, anna + block)
    tree.add("INBOX", data)
    expected = [f"2026-12-03,{contact},bounce,p,,email,,{mid(data)} Undelivered Mail Returned "
                f"to Sender [address {address}]"
                for contact, address in (("c2", KARIN_MAIL), ("c3", ANNA_MAIL))]
    assert synced_lines(book) == (expected if anna_failed else expected[:1])
    assert synced_lines(book) == []


def test_a_bounce_of_an_email_sent_by_hand_found_by_its_original_recipient(book, tree):
    """Row 4: the user wrote to Karin by hand; her server forwarded the mail to an alias,
    where it failed. The report names the alias as Final-Recipient and her address as
    Original-Recipient: her bounce."""
    data = make("postfix_bounce", recipient=KARIN_MAIL)
    block = f"Final-Recipient: rfc822; {KARIN_MAIL}".encode()
    assert data.count(block) == 1 and data.count(f"Original-Recipient: rfc822;{KARIN_MAIL}"
                                                 .encode()) == 1
    data = data.replace(block, b"Final-Recipient: rfc822; karin.dahl@mailhost.example")
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,c2,bounce,p,,email,,{mid(data)} Undelivered Mail Returned to Sender "
        f"[address {KARIN_MAIL}]"]


def test_a_report_whose_failed_recipients_are_no_contacts_bounces_no_contact(book, tree):
    """Row 4: the user wrote to Karin by hand with a colleague in Cc; only the colleague's
    address failed. Karin's email arrived: no bounce, though the returned message's `To`
    names her."""
    data = make("postfix_bounce", recipient="kollega@partner.example")
    returned = b"\nTo: kollega@partner.example"
    assert data.count(returned) == 1 and KARIN_MAIL.encode() not in data
    data = data.replace(returned, f"\nTo: {KARIN_MAIL}\r\nCc: kollega@partner.example".encode())
    tree.add("INBOX", data)
    assert synced_lines(book) == []


def test_a_bounce_of_several_recipients_names_the_contacts_own_address(book, tree):
    """Row 4: the user added a Cc to Jonas's draft before sending, and both addresses failed,
    the Cc's reported first: the row names Jonas's address, which bounced, so email is
    unusable for him ("until its email cell differs from the address that bounced")."""
    data = make("postfix_bounce", in_reply_to=draft_id("c1"), recipient=JONAS_MAIL)
    block = (f"Final-Recipient: rfc822; {JONAS_MAIL}").encode()
    cc = (b"Final-Recipient: rfc822; kollega@partner.example\r\n"
          b"Original-Recipient: rfc822;kollega@partner.example\r\nAction: failed\r\n"
          b"Status: 5.1.1\r\n\r\n")
    assert data.count(block) == 1
    data = data.replace(block, cc + block)
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,c1,bounce,p,,email,,{mid(data)} Undelivered Mail Returned to Sender "
        f"[address {JONAS_MAIL}]"]
    assert plan_json(book, "c1", AFTER)[1] == ("2026-12-15", "decide-2", "letter", "step")


@pytest.mark.parametrize("failed, expected", [
    ("KARIN", [("c2", "KARIN")]),  # Karin's address failed, in a Bcc added to Jonas's draft
    ("kollega@partner.example", []),  # a stranger's address failed: no contact bounced
])
def test_a_drafts_report_whose_failed_address_is_not_the_contacts(book, tree, failed, expected):
    """Row 4: the returned message is Jonas's draft, sent to him, but the address that failed
    is another (a Bcc the user added, its own address in both fields): Jonas's email
    arrived, so it is no bounce of his; the report is read as one of mail written by hand, a
    bounce of each contact whose address failed."""
    address = {"KARIN": KARIN_MAIL}.get(failed, failed)
    data = make("postfix_bounce", in_reply_to=draft_id("c1"), recipient=JONAS_MAIL)
    block = f"Final-Recipient: rfc822; {JONAS_MAIL}".encode()
    assert data.count(block) == 1
    data = data.replace(block, f"Final-Recipient: rfc822; {address}".encode()).replace(
        f"Original-Recipient: rfc822;{JONAS_MAIL}".encode(),
        f"Original-Recipient: rfc822;{address}".encode())
    assert f"\nTo: Jonas Ek <{JONAS_MAIL}>".encode() in data  # the returned draft: to Jonas
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,{contact},bounce,p,,email,,{mid(data)} Undelivered Mail Returned to Sender "
        f"[address {KARIN_MAIL}]" for contact, _ in expected]
    assert plan_json(book, "c1", AFTER)[:2] == [
        CALL_ON_THE_7TH, ("2026-12-15", "decide-2", "email", "step")]


@pytest.mark.parametrize("case", ["relayed", "delayed", "cc"])
def test_a_report_where_only_another_recipient_failed_is_no_bounce_of_the_contact(book, tree,
                                                                                  case):
    """Row 4: the returned draft is Jonas's, and an address no contact has failed. It is no
    forward of Jonas's mail when the same report says how his own copy fared (relayed, still
    delayed), nor when the draft went to that address itself (a Cc the user added): his
    email arrived, or may yet, so email stays usable and no rung moves."""
    data = make("postfix_bounce", in_reply_to=draft_id("c1"), recipient=JONAS_MAIL)
    stranger = (b"Final-Recipient: rfc822; kollega@partner.example\r\nAction: failed\r\n"
                b"Status: 5.1.1\r\n\r\n")
    block = f"Final-Recipient: rfc822; {JONAS_MAIL}".encode()
    assert data.count(block) == 1 and data.count(b"Action: failed") == 1
    if case == "cc":
        start = data.index(block)
        end = data.index(b"\r\n\r\n", start) + 4
        data = data[:start] + stranger + data[end:]
        to = f"\nTo: Jonas Ek <{JONAS_MAIL}>".encode()
        assert data.count(to) == 1
        data = data.replace(to, to + b"\r\nCc: kollega@partner.example")
    else:
        data = data.replace(b"Action: failed", f"Action: {case}".encode())
        data = data.replace(block, stranger + block)
    tree.add("INBOX", data)
    assert synced_lines(book) == []
    assert plan_json(book, "c1", AFTER)[:2] == [
        CALL_ON_THE_7TH, ("2026-12-15", "decide-2", "email", "step")]


@pytest.mark.parametrize("original", [True, False])
def test_a_drafts_report_that_failed_where_the_contacts_server_forwarded_it(book, tree,
                                                                            original):
    """Row 4: Jonas's server forwarded his mail to an alias, where it failed. The report names
    the alias as Final-Recipient, and his address as Original-Recipient (RFC 3464 2.3.1) or
    not at all: his email did not arrive, a bounce of his address."""
    data = make("postfix_bounce", in_reply_to=draft_id("c1"), recipient=JONAS_MAIL)
    block = f"Final-Recipient: rfc822; {JONAS_MAIL}".encode()
    assert data.count(block) == 1
    data = data.replace(block, b"Final-Recipient: rfc822; jonas.ek@mailhost.kund.example")
    if not original:
        data = data.replace(f"Original-Recipient: rfc822;{JONAS_MAIL}\r\n".encode(), b"")
    assert data.count(f"Original-Recipient: rfc822;{JONAS_MAIL}".encode()) == int(original)
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,c1,bounce,p,,email,,{mid(data)} Undelivered Mail Returned to Sender "
        f"[address {JONAS_MAIL}]"]
    assert plan_json(book, "c1", AFTER)[1] == ("2026-12-15", "decide-2", "letter", "step")


def _global(data: bytes) -> bytes:
    """An RFC 6533 report, as Postfix sends for SMTPUTF8 mail: the same report in the global
    types, the address typed `utf-8`."""
    for old, new in ((b"report-type=delivery-status", b"report-type=global-delivery-status"),
                     (b"Type: message/delivery-status", b"Type: message/global-delivery-status"),
                     (b"Type: text/rfc822-headers", b"Type: message/global-headers"),
                     (b"Final-Recipient: rfc822;", b"Final-Recipient: utf-8;")):
        assert data.count(old) == 1
        data = data.replace(old, new)
    return data


@pytest.mark.parametrize("threaded", [True, False])
def test_a_global_delivery_report_is_a_bounce(book, tree, threaded):
    """Row 4 with RFC 6533's report (SPEC 10 names RFC 3464's; its global form says the same
    for mail to UTF-8 addresses): found by the returned Message-ID, or by the failed address."""
    fields = {"in_reply_to": draft_id("c1"), "recipient": JONAS_MAIL} if threaded else \
        {"recipient": KARIN_MAIL}
    data = _global(make("postfix_bounce", **fields))
    tree.add("INBOX", data)
    contact, address = ("c1", JONAS_MAIL) if threaded else ("c2", KARIN_MAIL)
    assert synced_lines(book) == [
        f"2026-12-03,{contact},bounce,p,,email,,{mid(data)} Undelivered Mail Returned to Sender "
        f"[address {address}]"]


def test_a_changed_email_cell_makes_email_usable_again(book, tree):
    """Row 4: "until its email cell differs from the address that bounced". The email that
    bounced never arrived all the same: its rung still comes the day after the bounce."""
    tree.add("INBOX", make("gmail_bounce", in_reply_to=draft_id("c1")))
    sync(book)
    path = os.path.join(book, "contacts.csv")
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text.replace(JONAS_MAIL, "jonas@nordbygg-ab.example"))
    assert plan_json(book, "c1", AFTER)[:2] == [
        ("2026-12-04", "no_reply", "call", "no_reply"), ("2026-12-15", "decide-2", "email", "step")]
    # the same address in another case is the same address: still unusable
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text.replace(JONAS_MAIL, JONAS_MAIL.upper()))
    assert plan_json(book, "c1", AFTER)[1] == ("2026-12-15", "decide-2", "letter", "step")


def test_a_bounce_of_the_old_address_after_the_cell_changed(book, tree):
    """Row 4 and SPEC 10: the cell was corrected before sync saw the bounce of the email that
    went to the old address. That email never arrived: the ledger's next_due is the day after
    the bounce, and the new address keeps email for decide-2."""
    path = os.path.join(book, "contacts.csv")
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text.replace(JONAS_MAIL, "jonas@nordbygg-ab.example"))
    data = make("postfix_bounce", recipient=JONAS_MAIL, in_reply_to=draft_id("c1"))
    tree.add("INBOX", data)
    assert synced_lines(book) == [
        f"2026-12-03,c1,bounce,p,,email,,{mid(data)} Undelivered Mail Returned to Sender "
        f"[address {JONAS_MAIL}]"]
    assert row_of(book, "c1")["next_due"] == "2026-12-04"
    assert plan_json(book, "c1", AFTER)[:2] == [
        ("2026-12-04", "no_reply", "call", "no_reply"), ("2026-12-15", "decide-2", "email", "step")]


def test_a_delay_warning_is_left_alone(book, tree):
    """"a delivery report (a bounce when its Action is failed; other reports are left alone)"."""
    tree.add("INBOX", make("delayed_dsn", in_reply_to=draft_id("c1")))
    before = book_files(book)
    result = sync(book)
    assert book_files(book) == before
    assert "0        0        0             0        0" in result.stdout


# --- the sent folder ---------------------------------------------------------------------------

def test_a_sent_copy_confirms_the_touch(book, tree):
    """Row 5: "a message in the sent folder whose Message-ID is one cadence made" -> `sent`
    with the touch's playbook and step; one cadence did not make is left alone."""
    data = make("sent_copy", message_id=draft_id("c1"), date=at(DRAFTED, 9, 5))
    tree.add("Sent", data, flags="S")
    tree.add("Sent", make("sent_copy", message_id="<private.1@konsult.example>"))
    assert synced_lines(book) == [
        f"2026-12-02,c1,sent,p,decide-1,email,,{draft_id('c1')} {SUBJECT}"]


@pytest.mark.parametrize("one_sync", [True, False])
def test_a_message_that_reused_a_drafts_id_does_not_hide_its_sent_copy(book, tree, one_sync):
    """Row 5 and "each message at most once": a reply whose mail program gave it the draft's
    own Message-ID is journaled as a reply, and the draft's copy in the sent folder, another
    message with that id, still confirms the touch, in the same sync or a later one."""
    reply = make("outlook_reply", from_addr=JONAS_MAIL, message_id=draft_id("c1"),
                 in_reply_to=draft_id("c1"), date=at("2026-12-03", 10, 0))
    assert mid(reply) == draft_id("c1")
    tree.add("INBOX", reply)
    sent = make("sent_copy", message_id=draft_id("c1"), date=at(DRAFTED, 9, 5))
    if one_sync:
        tree.add("Sent", sent, flags="S")
    lines = synced_lines(book)
    if not one_sync:
        tree.add("Sent", sent, flags="S")
        lines += synced_lines(book)
    assert sorted(line.split(",")[2] for line in lines) == ["reply", "sent", "status"]
    assert f"2026-12-02,c1,sent,p,decide-1,email,,{draft_id('c1')} {SUBJECT}" in lines
    assert synced_lines(book) == []  # each copy once


NOT_SENT = {"contact": "c1", "kind": "not-sent", "date": DRAFTED,
            "text": "drafted, not sent: the email to Jonas Ek of 2026-12-02 (p, decide-1) is not "
                    "in your sent folder"}


@pytest.mark.parametrize("today, listed", [
    ("2026-12-03", False), ("2026-12-04", True), ("2026-12-15", True), ("2026-12-16", False),
])
def test_a_drafted_email_not_seen_sent_is_noticed_from_2_to_13_days(tmp_path, tree, today,
                                                                     listed):
    """Row 5: "a drafted email not seen sent 2 days after its day is listed under notices
    by due ... until ... 14 days pass"."""
    book = one_book(tmp_path, HEADER + JONAS)
    sync(book, DRAFTED)  # an empty mailbox: nothing seen sent
    assert due_json(book, today).get("notices", []) == ([NOT_SENT] if listed else [])


@pytest.mark.parametrize("folder, kind, fields", [
    ("Sent", "sent_copy", {"message_id": "DRAFT"}),
    ("INBOX", "outlook_reply", {}),
    ("INBOX", "postfix_bounce", {"in_reply_to": "DRAFT"}),
    ("INBOX", "autoreply_exchange", {"in_reply_to": "DRAFT"}),
], ids=["sent", "reply", "bounce", "autoreply"])
def test_the_not_sent_notice_stops_once_seen_sent_or_answered(tmp_path, tree, folder, kind,
                                                              fields):
    """Row 5: "until it is seen sent, an answer or a bounce comes"."""
    book = one_book(tmp_path, HEADER + JONAS)
    assert due_json(book, "2026-12-05")["notices"] == [NOT_SENT]
    fields = {k: draft_id("c1") if v == "DRAFT" else v for k, v in fields.items()}
    tree.add(folder, make(kind, **fields))
    sync(book)
    assert "notices" not in due_json(book, "2026-12-05")


def test_no_not_sent_notice_without_a_mailbox(tmp_path):
    """`not-sent` only when the book has a mail: section (without one, nothing is ever seen
    sent)."""
    book = one_book(tmp_path, HEADER + JONAS, mail=False)
    assert due_json(book, "2026-12-05") == {"today": "2026-12-05", "due": []}


# --- mail left alone ---------------------------------------------------------------------------

def test_own_mail_and_strangers_are_left_alone(book, tree):
    """"a message from the user's own address ... is left alone" (even threaded to a
    draft: a Cc to herself, her own follow-up), and "messages that match no contact are left
    alone"."""
    tree.add("INBOX", make("gmail_reply", from_addr="Eva@Konsult.example",
                           in_reply_to=draft_id("c1")))
    tree.add("INBOX", make("stranger"))
    tree.add("INBOX", make("stranger", in_reply_to="<nothing.cadence.made@konsult.example>"))
    tree.add("Junk", make("russian_reply"))
    before = book_files(book)
    result = sync(book)
    assert book_files(book) == before
    assert result.stdout.startswith("Read 4 messages from ")


# --- addresses and languages -------------------------------------------------------------------

IDN = "juergen@müller-bau.example"
IDN_ASCII = "juergen@xn--mller-bau-q9a.example"


@pytest.mark.parametrize("cell, kind, sender", [
    (IDN, "idn_sender", None),  # the message in punycode, the ledger in Unicode
    (IDN, "idn_sender_utf8", IDN),  # both in Unicode (SMTPUTF8)
    (IDN_ASCII, "idn_sender_utf8", IDN),  # the ledger in punycode
    ("JUERGEN@MÜLLER-BAU.EXAMPLE", "idn_sender", None),
], ids=["punycode-mail", "utf8-mail", "punycode-ledger", "upper-case"])
def test_an_international_domain_is_one_address_however_written(tmp_path, tree, cell, kind,
                                                                sender):
    """Issue 15: the sender's address against the ledger's `email` cells, "case-insensitive,
    IDN-aware"."""
    from cadence.addresses import idna_domain

    assert idna_domain("müller-bau.example") == IDN_ASCII.split("@")[1]
    book = one_book(tmp_path, HEADER + f"c6,Jürgen Müller,{cell},,,p,2026-12-01\n")
    data = make(kind, **({"from_addr": sender} if sender else {}))
    tree.add("INBOX", data)
    assert synced_lines(book)[0] == f"2026-12-03,c6,reply,p,,email,,{mid(data)} Re: {SUBJECT}"


def test_address_keys_read_an_international_domain_by_idna_2008():
    """`straße.de` and its IDNA 2008 form are one address; IDNA 2003's `strasse.de` (what
    Python's own codec writes) is another domain, and another address."""
    from cadence.addresses import address_key

    assert address_key("Anna@Straße.de") == address_key("anna@xn--strae-oqa.de") == \
        "anna@xn--strae-oqa.de"
    assert address_key("anna@strasse.de") != address_key("anna@straße.de")
    assert address_key("anna@i\u2764.example") == "anna@i\u2764.example"  # no IDNA form: as is


@pytest.mark.parametrize("kind, subject", [
    ("russian_reply", "Re: Спасибо за встречу"),
    ("ukrainian_reply", "ВІДП: Дякуємо за зустріч"),
    ("swedish_reply", "Sv: Tack för mötet"),
])
def test_subjects_in_other_scripts_are_decoded_in_the_journal(book, tree, kind, subject):
    """The journal's note keeps the subject (`<id@host> Re: Thank you`), decoded from its
    encoded words (UTF-8 base64, windows-1251, Q)."""
    data = make(kind, from_addr=JONAS_MAIL)
    tree.add("INBOX", data)
    assert synced_lines(book)[0] == f"2026-12-03,c1,reply,p,,email,,{mid(data)} {subject}"
    found = json.loads(cadence(book, "sync", "--today", AFTER, "--json", "--dry-run").stdout)
    assert found["found"] == []


# --- hostile and broken mail -------------------------------------------------------------------

def test_a_header_injection_stays_on_one_line(book, tree):
    """Issue 15, 6: "header injection in a subject copied to the journal's note" cannot
    inject anything: one row, no CR or LF in it."""
    data = make("header_injection", from_addr=JONAS_MAIL)
    tree.add("INBOX", data)
    lines = synced_lines(book)
    assert lines == [
        f"2026-12-03,c1,reply,p,,email,,{mid(data)} Re: {SUBJECT} {INJECTED}",
        "2026-12-03,c1,status,p,,,,replied (a reply by email)",
    ]
    assert "\r" not in journal(book) and journal(book).count("\n") == 9


def test_a_formula_in_a_subject_begins_no_cell(book, tree):
    """Issue 15, 6: "a formula in a subject" cannot inject anything: no cell of the journal
    or the ledger begins with = + - @."""
    data = make("hyperlink_subject", from_addr=JONAS_MAIL)
    tree.add("INBOX", data)
    lines = synced_lines(book)
    assert lines[0] == f"2026-12-03,c1,reply,p,,email,,\"{mid(data)} {HYPERLINK.replace(chr(34), chr(34) * 2)}\""
    written = cells(journal(book))[1:] + [
        [row[c] for c in ("status", "last_reply", "next_due", "last_step")] for row in ledger(book)]
    for row in written:
        assert not [cell for cell in row if cell[:1] in ("=", "+", "-", "@")], row


@pytest.mark.parametrize("subject", ["Re: offer;=1+2;@SUM(1+1)*cmd|' /C calc'!A0",
                                     "Re: offer,=1+2, +A1,\t-2+3"])
def test_a_formula_after_another_separator_begins_no_cell(book, tree, subject):
    """However a spreadsheet splits the journal's line (`,`, `;` or tab: a semicolon locale
    opens a comma file so), no cell of a stranger's subject begins a formula."""
    import csv
    import io

    tree.add("INBOX", make("gmail_reply", from_addr=JONAS_MAIL, subject=subject))
    line = synced_lines(book)[0]
    assert ",reply," in line
    for split in (",", ";", "\t"):
        for cell in next(csv.reader(io.StringIO(line), delimiter=split)):
            assert not cell.lstrip(" \t").startswith(("=", "+", "-", "@")), (split, cell)
    assert "offer;'=1+2;'@SUM" in line or "offer,'=1+2, '+A1, '-2+3" in line


def test_a_huge_message_is_read_by_its_headers(book, tree):
    """Issue 15, 6: "a 50 MB attachment" cannot hang sync: it reads headers, not
    attachments. Reading 50 MiB and parsing it whole takes seconds; the headers, a blink."""
    data = make("huge", from_addr=JONAS_MAIL)
    assert len(data) > 50 * 1024 * 1024
    tree.add("INBOX", data)
    started = time.monotonic()
    lines = synced_lines(book)
    assert time.monotonic() - started < 2.0
    assert lines[0] == f"2026-12-03,c1,reply,p,,email,,{mid(data)} Re: {SUBJECT}"


def test_a_deeply_nested_message_is_a_plain_reply(book, tree):
    """Issue 15, 6: "a deeply nested ... message" cannot crash sync."""
    data = make("deep_multipart", from_addr=JONAS_MAIL, depth=900)
    tree.add("INBOX", data)
    assert synced_lines(book)[0] == f"2026-12-03,c1,reply,p,,email,,{mid(data)} Re: {SUBJECT}"


@pytest.mark.parametrize("mtime, day", [
    (at("2026-12-03", 8, 0), "2026-12-03"),
    (at("2026-12-03", 23, 30, zone=UTC), "2026-12-04"),  # past midnight in Stockholm
], ids=["same-day", "utc-evening-is-stockholm-morning"])
def test_a_broken_date_is_dated_by_the_files_time_and_says_so(book, tree, mtime, day):
    """"a message without a usable Date is dated by ... the file's time" (in the book's
    timezone), and the note says so."""
    data = make("broken_date", from_addr=JONAS_MAIL)
    tree.add("INBOX", data, mtime=mtime)
    before = journal(book)
    result = sync(book)
    assert new_lines(before, journal(book))[0] == (
        f"{day},c1,reply,p,,email,,{mid(data)} Re: {SUBJECT} (dated by its file time: the Date "
        "header is unusable)")
    assert f"c1: {mid(data)} has no usable Date header; dated {day} by its file time" in \
        result.stdout.splitlines()


def digest_of(data: bytes) -> str:
    """SPEC: "a message without a Message-ID is known by a digest of its bytes": its header
    block's, line ends made LF."""
    head = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return f"<{hashlib.sha256(head).hexdigest()[:32]}@digest.cadence.invalid>"


def test_a_message_without_a_message_id_is_known_by_a_digest_once(book, tree):
    """"A message without a Message-ID is known by a digest of its bytes", and is journaled
    once however often sync runs, in either line ending."""
    data = make("no_message_id", from_addr=JONAS_MAIL)
    assert "Message-ID" not in email.message_from_bytes(data)
    tree.add("INBOX", data)
    assert synced_lines(book)[0] == \
        f"2026-12-03,c1,reply,p,,email,,{digest_of(data)} Re: {SUBJECT}"
    kept = journal(book)
    tree.add("Junk", data.replace(b"\r\n", b"\n"))  # the same message, stored with LF
    sync(book)
    assert journal(book) == kept


# --- sync as a whole ---------------------------------------------------------------------------

def test_golden_journal_rows_and_json_of_a_morning(book, tree):
    """Golden: the `sync --json` document ({"today", "found": [{"contact", "event", "date",
    "folder", "message_id", "subject"}]}, by date, contact, event) and the journal's rows
    (by the ledger's order, each contact's oldest first) of a fixed mailbox."""
    found = morning(tree.add)
    before = journal(book)
    result = sync(book, AFTER, "--json")
    assert json.loads(result.stdout) == expected_json(found)
    assert result.stderr == ("warning: a reply from Anna Berg is in your junk folder "
                             "(2026-12-03): move it to the inbox, and tell your mail program it "
                             "is not spam\n")
    assert new_lines(before, journal(book)) == expected_rows(found)
    assert [(r["id"], r["status"], r["last_reply"], r["next_due"]) for r in ledger(book)] == [
        ("c1", "replied", "2026-12-03", ""), ("c2", "", "", "2026-12-04"),
        ("c3", "replied", "2026-12-03", "")]


def test_the_summary_table(book, tree):
    """Issue 15, 7: "a summary table (replies, in junk, auto-replies, bounces, sent)"."""
    morning(tree.add)
    out = sync(book).stdout.splitlines()
    assert out[0] == f"Read 7 messages from {tree.root}: the inbox, Junk, Sent."
    assert out[1:5] == ["Found", "replies  in junk  auto-replies  bounces  sent",
                        "-------  -------  ------------  -------  ----",
                        "2        1        1             1        1"]


def test_sync_twice_is_sync_once(book, tree):
    """"each message at most once however often sync runs": the second sync changes no
    byte of the book."""
    morning(tree.add)
    sync(book)
    after_one = book_files(book)
    result = sync(book)
    assert book_files(book) == after_one
    assert "2        1" not in result.stdout


def test_the_summary_counts_what_is_new_while_the_junk_warning_repeats(book, tree):
    """README, `cadence sync`: the summary counts what is new to the journal; a reply that
    sits in the junk folder is named on every sync."""
    morning(tree.add)
    first = sync(book).stdout.splitlines()
    again = sync(book).stdout.splitlines()
    assert again[1:5] == ["Found", "replies  in junk  auto-replies  bounces  sent",
                          "-------  -------  ------------  -------  ----",
                          "0        0        0             0        0"]
    warnings = [line for line in first if line.startswith("warning: a reply from")]
    assert warnings and [line for line in again if line.startswith("warning:")] == warnings


@pytest.mark.parametrize("seed", range(4))
def test_the_order_messages_arrive_in_does_not_matter(tmp_path, seed):
    """The journal's bytes depend on the messages, not on their order in the folders (nor on
    which of the file names a Maildir gives them): four shuffles, one journal."""
    reference = tmp_path / "reference"
    ref_tree = make_maildir(reference / "Mail")
    ref_book = make_book(reference / "book", maildir_section())
    messages = list(morning(ref_tree.add).items())
    messages.append(("late", make("gmail_reply", from_addr=KARIN_MAIL, date=at("2026-12-04"))))
    ref_tree.add("INBOX", messages[-1][1])
    sync(ref_book)
    shuffled = tmp_path / "shuffled"
    tree = make_maildir(shuffled / "Mail", style=("mbsync", "offlineimap", "dovecot")[seed % 3])
    book = make_book(shuffled / "book", maildir_section())
    random.Random(seed).shuffle(messages)
    folders = {"junk": "Junk", "sent": "Sent"}
    for name, data in messages:
        tree.add(folders.get(name, "INBOX"), data, flags=random.Random(name).choice(["", "S"]))
    sync(book)
    assert journal(book) == journal(ref_book)
    assert ledger(book) == ledger(ref_book)


def test_a_dry_run_writes_nothing(book, tree, tmp_path):
    """`sync --dry-run`: what would be found, and nothing written (book and cursors)."""
    found = morning(tree.add)
    cache = os.environ["CADENCE_CACHE_DIR"]
    before, cached = book_files(book), sorted(os.listdir(cache))
    result = sync(book, AFTER, "--dry-run", "--json")
    assert json.loads(result.stdout) == expected_json(found)
    assert book_files(book) == before and sorted(os.listdir(cache)) == cached
    assert sync(book, AFTER, "--dry-run").stdout.splitlines()[-1] == "Dry run: nothing was written."
    assert book_files(book) == before


AHEAD = [
    # (messages left for later as (day, contact), the line's words after "left for a later sync")
    ([(5, "c1")], " (about Ann, dated 2026-12-05: a clock ahead of yours?)."),
    ([(5, "c1"), (7, "c2"), (6, "c1")],
     " (about Ann and Bo, dated 2026-12-05 to 2026-12-07: a clock ahead of yours?)."),
    # a server whose clock is a year out: seven people named would make a long line
    ([(day, f"c{n}") for n, day in zip(range(1, 8), range(8, 15))],
     " (about Ann, Bo, Cy, Di, Ed and 2 others, dated 2026-12-08 to 2026-12-14: a clock ahead "
     "of yours?)."),
    # six: all named, rather than "and 1 others"
    ([(day, f"c{n}") for n, day in zip(range(1, 7), range(8, 14))],
     " (about Ann, Bo, Cy, Di, Ed and Fa, dated 2026-12-08 to 2026-12-13: a clock ahead of "
     "yours?)."),
    ([], "."),  # counted, but none of them concerned a contact of the ledger
]


@pytest.mark.parametrize("ahead, words", AHEAD)
def test_the_messages_left_for_later_are_named_in_one_line(ahead, words):
    """Whom the messages dated after today concern (a reply from them, a copy sent to them, a
    bounce) and when: at most five names, the first and last day."""
    from datetime import date

    from cadence.mailacts import Synced

    names = dict(zip([f"c{n}" for n in range(1, 8)], ["Ann", "Bo", "Cy", "Di", "Ed", "Fa", "Gu"]))
    synced = Synced((), names, (), {}, len(ahead) or 2, 0, (),
                    ahead=tuple((date(2026, 12, day), cid) for day, cid in ahead))
    count = len(ahead) or 2
    assert synced.dated_lines() == [f"{count} message{'s' if count != 1 else ''} dated after "
                                    f"today left for a later sync{words}"]


def test_a_message_dated_after_today_waits_for_a_later_sync(book, tree):
    """"one dated after --today is left for a later sync"."""
    data = make("outlook_reply", date=at("2026-12-06"))
    tree.add("INBOX", data)
    before = book_files(book)
    result = sync(book, "2026-12-05")
    assert book_files(book) == before
    assert ("1 message dated after today left for a later sync (about Jonas Ek, dated "
            "2026-12-06: a clock ahead of yours?).") in result.stdout.splitlines()
    assert synced_lines(book, "2026-12-06") == [
        f"2026-12-06,c1,reply,p,,email,,{mid(data)} RE: {SUBJECT}",
        "2026-12-06,c1,status,p,,,,replied (a reply by email)"]


def test_sync_never_changes_the_mailbox(book, tree):
    """"sync never deletes, moves or flags mail": every file of the tree keeps its name
    (new/ stays new/, no S flag), bytes and time."""
    morning(tree.add)
    tree.add("INBOX", make("huge", from_addr=JONAS_MAIL, size=1 << 20))
    before = tree_state(tree.root)
    sync(book)
    sync(book, AFTER, "--json")
    assert tree_state(tree.root) == before


def test_without_a_mail_section_sync_and_push_exit_78(tmp_path):
    """"Without a mail: section, sync exits 78 with a hint showing one"; push too."""
    book = one_book(tmp_path, LEDGER, mail=False)
    for command in ("sync", "push"):
        result = cadence(book, command, "--today", AFTER)
        assert result.exit_code == 78
        assert "no `mail:` section" in result.stderr and "maildir: ~/Mail/work" in result.stderr


# --- push ----------------------------------------------------------------------------------------

def drafts_of(book, day: str = DRAFTED) -> dict:
    folder = os.path.join(book, "drafts", day)
    return {name: open(os.path.join(folder, name), "rb").read()
            for name in sorted(os.listdir(folder)) if name.endswith(".eml")}


def test_push_puts_each_draft_in_the_drafts_folder_once(book, tree):
    """push: "in a Maildir, a file in .Drafts/cur with the D flag"; "A draft whose
    Message-ID is already there is not stored twice"; --dry-run stores nothing."""
    drafts = drafts_of(book)
    assert len(drafts) == 3
    dry = cadence(book, "push", "--today", DRAFTED, "--dry-run", "--json")
    assert dry.exit_code == 0 and tree.files("Drafts") == []
    assert json.loads(dry.stdout)["dry_run"] is True
    result = cadence(book, "push", "--today", DRAFTED, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "today": DRAFTED, "dry_run": False, "already": [], "sent": [], "changed": [],
        "stored": [{"file": name, "message_id": draft_id(f"c{n}"), "subject": SUBJECT}
                   for n, name in enumerate(drafts, 1)]}
    stored = tree.files("Drafts")
    assert [p.parent.name for p in stored] == ["cur"] * 3
    assert all(p.name.endswith(":2,D") for p in stored)
    assert sorted(p.read_bytes() for p in stored) == sorted(
        data.replace(b"\r\n", b"\n") for data in drafts.values())
    again = cadence(book, "push", "--today", DRAFTED)
    assert again.exit_code == 0
    assert again.stdout == (f"Stored 0 drafts in the drafts folder of {tree.root}; 3 already "
                            "there.\n")
    assert len(tree.files("Drafts")) == 3
    # the mail program sends one: its file moves from Drafts to Sent; push never puts it back
    first = stored[0]
    sent_dir = first.parent.parent.parent / ".Sent" / "cur"
    first.rename(sent_dir / first.name.replace(":2,D", ":2,S"))
    after = cadence(book, "push", "--today", DRAFTED, "--json")
    document = json.loads(after.stdout)
    assert document["stored"] == [] and len(document["already"]) == 2
    assert len(document["sent"]) == 1 and len(tree.files("Drafts")) == 2
    assert cadence(book, "push", "--today", DRAFTED).stdout == (
        f"Stored 0 drafts in the drafts folder of {tree.root}; 2 already there; 1 already "
        "sent.\n")


def test_push_keeps_out_a_draft_made_again_with_another_text(book, tree):
    """A draft taken back and made again (`undo`, a template mended, `run`) keeps its
    Message-ID: its copy pushed before is not "already there" but another text, which push
    says (stderr, `changed`) and does not store beside it. Made again with the same text,
    it is already there."""
    assert cadence(book, "push", "--today", DRAFTED).exit_code == 0
    undone = cadence(book, "undo", "c3", "--today", DRAFTED)
    assert undone.stdout.splitlines()[-1] == (
        "If `cadence push` stored a copy in your mail program's drafts folder, it stays there: "
        "delete it, or it may still go out.")
    assert cadence(book, "run", "--today", DRAFTED, "--quiet").exit_code == 0
    same = json.loads(cadence(book, "push", "--today", DRAFTED, "--json").stdout)
    assert (len(same["already"]), same["changed"], same["stored"]) == (3, [], [])
    redraft_mended(book, "c1", "c2")
    result = cadence(book, "push", "--today", DRAFTED, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["stored"] == [] and len(document["already"]) == 1
    changed = sorted(d["file"] for d in document["changed"])
    assert changed == sorted(n for n in drafts_of(book) if "c1" in n or "c2" in n)
    assert result.stderr.splitlines() == [
        f"{name}: not stored: the drafts folder holds another text under its Message-ID (a "
        "copy pushed before this draft was made again, or edited there); if that copy is the "
        "old one, delete it in your mail program, then push again" for name in changed]
    assert len(tree.files("Drafts")) == 3
    plain = cadence(book, "push", "--today", DRAFTED)
    assert plain.stdout == (f"Stored 0 drafts in the drafts folder of {tree.root}; 1 already "
                            "there; 2 not stored, another text is there (below).\n")
    # deleted there, as the message says: the new text goes in
    for path in tree.files("Drafts"):
        if b"Hello Jonas" in path.read_bytes():
            path.unlink()
    again = json.loads(cadence(book, "push", "--today", DRAFTED, "--json").stdout)
    assert [d["file"] for d in again["stored"]] == [changed[0]]
    assert any(b"Hi there Jonas" in p.read_bytes() for p in tree.files("Drafts"))


def test_a_copy_the_server_stored_in_another_encoding_is_the_same_draft(book, tree):
    """A server may store a draft in another transfer encoding (Exchange: base64 or
    quoted-printable for 7bit and 8bit, LF for CRLF): push compares the decoded text, so
    such a copy is already there, not another text."""
    import base64

    for name, data in drafts_of(book).items():
        head, _, body = data.partition(b"\r\n\r\n")
        head = head.replace(b"Content-Transfer-Encoding: 7bit",
                            b"Content-Transfer-Encoding: base64")
        tree.add("Drafts", head + b"\n\n" + base64.encodebytes(body))
    result = cadence(book, "push", "--today", DRAFTED, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (len(document["already"]), document["changed"], document["stored"]) == (3, [], [])


def test_an_email_sent_after_undo_took_it_back_is_a_touch_again(tmp_path):
    """The mail program still held the draft `undo` took back, and it was sent: the sent
    folder shows it went out. sync journals its touch again, as it was, beside the `sent`
    row, and the contact's cells are those of a book where it was never taken back; the
    step is not drafted a second time."""
    books, added = {}, {}
    for name in ("kept", "undone"):
        tree = make_maildir(tmp_path / name / "Mail")
        books[name] = make_book(tmp_path / name / "book", maildir_section())
        sent = next(data for n, data in drafts_of(books[name]).items() if n.startswith("c1"))
        if name == "undone":
            assert cadence(books[name], "undo", "c1", "--today", DRAFTED).exit_code == 0
        tree.add("Sent", sent)
        added[name] = synced_lines(books[name])
    kept, undone = books["kept"], books["undone"]
    assert added["kept"] == [f"{DRAFTED},c1,sent,p,decide-1,email,,{draft_id('c1')} {SUBJECT}"]
    assert added["undone"] == [
        f"{DRAFTED},c1,touch,p,decide-1,email,hello,",
        f"{DRAFTED},c1,sent,p,decide-1,email,,{draft_id('c1')} {SUBJECT} (sent after undo took "
        "it back: its touch is journaled again)"]
    assert row_of(undone, "c1") == row_of(kept, "c1")
    for day in ("2026-12-05", "2026-12-07"):
        assert cadence(undone, "due", "--today", day, "--json").stdout == \
            cadence(kept, "due", "--today", day, "--json").stdout
    assert synced_lines(undone) == [] and synced_lines(kept) == []  # journaled once
    assert journal(undone).count(f"{DRAFTED},c1,touch,") == 2


def test_push_refuses_a_linked_draft(book, tree, tmp_path):
    """A draft in the day's folder that is a link is not cadence's: refused (78), nothing
    stored (a link could send any file of the disk to the mail server)."""
    secret = tmp_path / "secret.eml"
    secret.write_bytes(b"Subject: private\n\nnot a draft\n")
    os.symlink(secret, os.path.join(book, "drafts", DRAFTED, "a-link.eml"))
    result = cadence(book, "push", "--today", DRAFTED)
    assert result.exit_code == 78
    assert "a-link.eml: not a draft cadence wrote (a link or unreadable" in result.stderr
    assert tree.files("Drafts") == []


@pytest.mark.parametrize("edit, refused", [
    (lambda data, mid: data.replace(b"Message-ID: " + mid, b"Message-ID:\r\n " + mid), False),
    (lambda data, mid: data.replace(b"Message-ID: " + mid, b"Message-ID: <nodomain>"), True),
    (lambda data, mid: data.replace(b"Message-ID: " + mid + b"\r\n", b""), True),
    (lambda data, mid: b"", True),
])
def test_push_refuses_a_draft_without_a_message_id_of_its_own(book, tree, edit, refused):
    """A draft folded by an editor keeps its Message-ID; one without a Message-ID that names a
    message (emptied, the header removed, no domain) is not cadence's: refused (78), nothing
    stored, for neither sync nor the next push would know it."""
    name, data = next(iter(drafts_of(book).items()))
    mid = draft_id("c1").encode()
    assert data.count(b"Message-ID: " + mid) == 1
    with open(os.path.join(book, "drafts", DRAFTED, name), "wb") as out:
        out.write(edit(data, mid))
    result = cadence(book, "push", "--today", DRAFTED)
    if refused:
        assert result.exit_code == 78
        assert f"{name}: not a draft cadence wrote (no Message-ID header)" in result.stderr
        assert tree.files("Drafts") == []
    else:
        assert result.exit_code == 0, result.output
        assert len(tree.files("Drafts")) == 3


def test_push_without_drafts_says_so(book, tree):
    result = cadence(book, "push", "--today", "2026-12-05")
    assert (result.exit_code, result.stdout) == (
        0, "No email drafts for 2026-12-05: run `cadence run` first.\n")
    assert tree.files("Drafts") == []
    os.makedirs(os.path.join(book, "drafts", "2026-12-05"))  # a day of calls only
    result = cadence(book, "push", "--today", "2026-12-05")
    assert result.stdout == "No email drafts for 2026-12-05: the day's drafts are calls and letters.\n"


def test_sync_reads_the_tree_again_after_the_journal_is_taken_back(book, tree):
    """A Maildir has no cursor: a journal reverted to an earlier copy gets its rows back."""
    morning(tree.add)
    kept = book_files(book)
    sync(book)
    first = book_files(book)
    for name in ("history.csv", "contacts.csv"):  # `git checkout` of both
        with open(os.path.join(book, name), "wb") as handle:
            handle.write(kept[name])
    sync(book)
    assert book_files(book) == first


# --- the playbook's reply rule ------------------------------------------------------------------

OTHER = """\
description: After a reply.
channels: [email, call]
phases:
  - name: care
    every: 1 month
    channel: email
    template: hello
"""


@pytest.mark.parametrize("rule, rows, cells", [
    ("stop", ["2026-12-03,c1,status,p,,,,replied (a reply by email)"],
     {"status": "replied", "next_due": "", "playbook": "p"}),
    ("pause 14 days", ["2026-12-03,c1,status,p,,,,paused until 2026-12-17 (a reply by email)"],
     {"status": "paused", "paused_until": "2026-12-17", "next_due": ""}),
    ("continue", [], {"status": "", "next_due": "2026-12-15", "playbook": "p"}),
    ("move q", ["2026-12-03,c1,status,q,,,,started"],
     {"status": "", "playbook": "q", "started": "2026-12-03", "next_due": "2027-01-03"}),
])
def test_a_reply_acts_by_the_playbooks_reply_rule(tmp_path, tree, rule, rows, cells):
    """Row 1: sync "acts on the reply as cadence reply does (the playbook's reply rule)":
    stop, pause, continue (only the pending no_reply is cancelled), move (SPEC 9: a `started`
    row of the new playbook, dated as the reply). The ledger ends as `cadence reply` leaves
    it."""
    playbooks = {"playbooks/p.yaml": PLAYBOOK.replace("reply: stop", f"reply: {rule}"),
                 "playbooks/q.yaml": OTHER}
    book = make_book(tmp_path / "book", maildir_section(), ledger=HEADER + JONAS,
                     overrides=playbooks)
    by_hand = make_book(tmp_path / "by-hand", maildir_section(), ledger=HEADER + JONAS,
                        overrides=playbooks)
    data = make("outlook_reply", in_reply_to=draft_id("c1"))
    tree.add("INBOX", data)
    assert synced_lines(book) == [f"2026-12-03,c1,reply,p,,email,,{mid(data)} RE: {SUBJECT}"] + rows
    row = row_of(book, "c1")
    assert {k: row.get(k, "") for k in cells} == cells
    assert row["last_reply"] == "2026-12-03"
    kept = book_files(book)
    sync(book)  # twice is once, also after a move
    assert book_files(book) == kept
    assert cadence(by_hand, "reply", "c1", "--today", AFTER, "--on", "2026-12-03").exit_code == 0
    assert ledger(book) == ledger(by_hand)


def test_an_older_reply_found_late_takes_no_decision_of_its_own(tmp_path):
    """SPEC 5: `pause D` pauses until last_reply + D, and sync never moves last_reply back.
    A reply of 12-10 paused Jonas until 12-24; one of 12-03 found later in the junk folder is
    journaled, and decides nothing: the ledger ends as one sync of both leaves it."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    def on(day):
        return dt.datetime(2026, 12, day, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))

    playbooks = {"playbooks/p.yaml": PLAYBOOK.replace("reply: stop", "reply: pause 14 days")}
    newer = make("outlook_reply", date=on(10), message_id="<newer@example.com>")
    older = make("outlook_reply", date=on(3), message_id="<older@example.com>")
    books = {}
    for name, late in (("late", True), ("once", False)):
        tree = make_maildir(tmp_path / name / "Mail")
        books[name] = make_book(tmp_path / name / "book", maildir_section(),
                                ledger=HEADER + JONAS, overrides=playbooks)
        tree.add("INBOX", newer)
        if late:
            sync(books[name], "2026-12-11")
            assert row_of(books[name], "c1")["paused_until"] == "2026-12-24"
        tree.add("Junk", older)
        lines = synced_lines(books[name], "2026-12-12")
        if late:
            assert [line.split(",")[2] for line in lines] == ["reply"], lines
    for name in books:
        row = row_of(books[name], "c1")
        assert (row["status"], row["paused_until"], row["last_reply"]) == (
            "paused", "2026-12-24", "2026-12-10"), name


def test_mail_of_a_contact_no_longer_in_the_ledger_is_left_alone(tmp_path, tree):
    """SPEC 10: messages that match no contact are left alone. Jonas's reply to his draft,
    and the sent copy of it, come after his row left the ledger: nothing is found, said or
    journaled."""
    book = make_book(tmp_path / "book", maildir_section())
    tree.add("INBOX", make("outlook_reply", in_reply_to=draft_id("c1")))
    tree.add("Sent", make("sent_copy", message_id=draft_id("c1"), date=at(DRAFTED, 9, 5)))
    with open(os.path.join(book, "contacts.csv"), encoding="utf-8") as handle:
        kept = [line for line in handle.read().splitlines(True) if not line.startswith("c1,")]
    with open(os.path.join(book, "contacts.csv"), "w", encoding="utf-8") as handle:
        handle.write("".join(kept))
    before = journal(book)
    result = sync(book, AFTER, "--json")
    assert json.loads(result.stdout)["found"] == []
    assert journal(book) == before
    assert "c1" not in sync(book).stdout


# --- Maildir details -----------------------------------------------------------------------------

def test_a_maildir_folder_named_in_folders_and_what_is_not_a_message(tmp_path):
    """"the other folders are .Junk, .Sent, .Drafts (names as in folders, with the leading
    dot)"; a message still in tmp/ (being delivered), a link in cur/ (to a file anywhere
    on the disk) and a file whose name begins with a dot (no message, by the Maildir
    convention, and Dovecot's IMAP does not show it) are not read."""
    tree = make_maildir(tmp_path / "Mail", folders=("Spam", "Sent", "Drafts"))
    book = make_book(tmp_path / "book", maildir_section(extra="  folders: {junk: Spam}\n"))
    spam = make("junk_reply")
    tree.add("Spam", spam)
    tree.add("INBOX", make("gmail_reply", from_addr=KARIN_MAIL), subdir="tmp")
    outside = tmp_path / "elsewhere.eml"
    outside.write_bytes(make("gmail_reply", from_addr=ANNA_MAIL))
    os.symlink(outside, tree.folder("INBOX") / "cur" / "1796289400.1_1.laptop,U=9:2,S")
    (tree.folder("INBOX") / "cur" / ".hidden:2,S").write_bytes(
        make("gmail_reply", from_addr=KARIN_MAIL))
    result = sync(book)
    assert new_lines(LEDGER_JOURNAL_AFTER_RUN, journal(book)) == [
        f"2026-12-03,c1,reply,p,,email,,junk: {mid(spam)} Re: {SUBJECT}",
        "2026-12-03,c1,status,p,,,,replied (a reply by email)"]
    assert result.stdout.startswith(f"Read 1 message from {tree.root}: the inbox, Spam, Sent.")
    assert "No sent folder" not in result.stdout


# --- a tree of one Maildir a folder (offlineimap's default) ------------------------------------

def test_a_tree_of_one_maildir_a_folder_reads_as_maildir_plus_plus(tmp_path):
    """README "Semantics" (the mailbox): INBOX/, Junk/, Sent/ each a Maildir, as offlineimap
    keeps them, give the journal and ledger a Maildir++ tree of the same mail gives."""
    books = {}
    for layout in ("maildir++", "folders"):
        tree = make_maildir(tmp_path / layout / "Mail", style="offlineimap", layout=layout)
        books[layout] = make_book(tmp_path / layout / "book", maildir_section())
        morning(tree.add)
        out = sync(books[layout]).stdout.splitlines()
        assert out[0] == f"Read 7 messages from {tree.root}: the inbox, Junk, Sent."
    assert journal(books["folders"]) == journal(books["maildir++"])
    assert ledger(books["folders"]) == ledger(books["maildir++"])


def test_push_stores_drafts_in_a_trees_drafts_maildir(tmp_path):
    tree = make_maildir(tmp_path / "Mail", layout="folders")
    book = make_book(tmp_path / "book", maildir_section())
    result = cadence(book, "push", "--today", DRAFTED)
    assert result.exit_code == 0, result.output
    stored = tree.files("Drafts")
    assert len(stored) == 3 and all(p.parent == tree.root / "Drafts" / "cur" for p in stored)
    assert all(p.name.endswith(":2,D") for p in stored)
    assert cadence(book, "push", "--today", DRAFTED).stdout.startswith("Stored 0 drafts")


def _reads_the_junk_reply(book, tree, spam: bytes, folders: str) -> None:
    """sync reads the one reply, found in the junk folder, from the folders named."""
    result = sync(book)
    assert result.stdout.startswith(f"Read 1 message from {tree.root}: the inbox, {folders}.")
    assert new_lines(LEDGER_JOURNAL_AFTER_RUN, journal(book)) == [
        f"2026-12-03,c1,reply,p,,email,,junk: {mid(spam)} Re: {SUBJECT}",
        "2026-12-03,c1,status,p,,,,replied (a reply by email)"]


def test_a_trees_folders_by_name_and_what_is_not_a_folder(tmp_path):
    """The inbox is the folder named INBOX in any case (or `folders: inbox:`); other roles as
    `folders` names them, such as Gmail's; a link to a Maildir elsewhere, a dot folder and a
    folder without cur/ are not folders of the tree."""
    tree = make_maildir(tmp_path / "Mail", folders=("[Gmail].Spam", "[Gmail].Sent Mail"),
                        layout="folders")
    (tree.root / "INBOX").rename(tree.root / "Inbox")
    tree.layout = "maildir++"  # no more folders made by the helper: the files go by path
    elsewhere = make_maildir(tmp_path / "elsewhere", folders=())
    elsewhere.add("INBOX", make("gmail_reply", from_addr=KARIN_MAIL))
    os.symlink(elsewhere.root, tree.root / "Linked")
    (tree.root / ".hidden" / "cur").mkdir(parents=True)
    (tree.root / "notes").mkdir()
    spam = make("junk_reply")
    target = tree.root / "[Gmail].Spam" / "new" / "1796289400.1_1.laptop"
    target.write_bytes(spam)
    book = make_book(tmp_path / "book", maildir_section(
        extra="  folders: {junk: '[Gmail].Spam', sent: '[Gmail].Sent Mail'}\n"))
    _reads_the_junk_reply(book, tree, spam, "[Gmail].Spam, [Gmail].Sent Mail")
    wrong = make_book(tmp_path / "wrong", maildir_section(extra="  folders: {junk: Linked}\n"))
    refused = cadence(wrong, "sync", "--today", AFTER)
    assert refused.exit_code == 78
    assert "mail.folders.junk: the Maildir has no folder Linked" in refused.stderr
    assert "folders here: Inbox, [Gmail].Sent Mail, [Gmail].Spam" in refused.stderr


@pytest.mark.parametrize("layout", ["maildir++", "folders"])
def test_folders_named_beyond_ascii_as_dovecot_keeps_them_on_disk(tmp_path, layout):
    """Dovecot and offlineimap write `Skräppost` on disk in IMAP's modified UTF-7
    (`Skr&AOQ-ppost`): `folders` names it as people read it, and so does sync's output and
    the hint of a folder that is not there."""
    tree = make_maildir(tmp_path / "Mail", folders=("Skr&AOQ-ppost", "Skickat"), layout=layout)
    spam = make("junk_reply")
    tree.add("Skr&AOQ-ppost", spam)
    book = make_book(tmp_path / "book", maildir_section(
        extra="  folders: {junk: Skräppost, sent: Skickat}\n"))
    _reads_the_junk_reply(book, tree, spam, "Skräppost, Skickat")
    wrong = make_book(tmp_path / "wrong", maildir_section(
        extra="  folders: {junk: Черновики}\n"))
    refused = cadence(wrong, "sync", "--today", AFTER)
    assert refused.exit_code == 78
    assert "folders here: " in refused.stderr and "Skräppost" in refused.stderr
    assert "&AOQ-" not in refused.stderr


def test_folders_in_folders_as_mbsync_keeps_them_verbatim(tmp_path):
    """README "Semantics" (the mailbox): mbsync's `SubFolders Verbatim` keeps Gmail's folders
    as [Gmail]/Spam/, [Gmail]/Sent Mail/, [Gmail]/Drafts/ in a plain [Gmail]/ directory;
    `folders` names them with a slash; sync reads them and push stores there. A link at any
    depth is no folder."""
    tree = make_maildir(tmp_path / "Mail", folders=("[Gmail]/Spam", "[Gmail]/Sent Mail",
                                                    "[Gmail]/Drafts", "Archive/2026"),
                        layout="folders")
    assert not (tree.root / "[Gmail]" / "cur").exists()
    elsewhere = make_maildir(tmp_path / "elsewhere", folders=())
    os.symlink(elsewhere.root, tree.root / "[Gmail]" / "Trash")
    os.symlink(elsewhere.root, tree.root / "Archive" / "2026" / "Linked")
    spam = make("junk_reply")
    tree.add("[Gmail]/Spam", spam)
    book = make_book(tmp_path / "book", maildir_section(
        extra="  folders: {junk: '[Gmail]/Spam', sent: '[Gmail]/Sent Mail', "
              "drafts: '[Gmail]/Drafts'}\n"))
    _reads_the_junk_reply(book, tree, spam, "[Gmail]/Spam, [Gmail]/Sent Mail")
    pushed = make_book(tmp_path / "pushed", maildir_section(
        extra="  folders: {drafts: '[Gmail]/Drafts'}\n"))
    assert cadence(pushed, "push", "--today", DRAFTED).exit_code == 0
    stored = tree.files("[Gmail]/Drafts")
    assert len(stored) == 3 and {p.parent for p in stored} == {
        tree.root / "[Gmail]" / "Drafts" / "cur"}
    wrong = make_book(tmp_path / "wrong", maildir_section(
        extra="  folders: {junk: '[Gmail]/Trash'}\n"))
    refused = cadence(wrong, "sync", "--today", AFTER)
    assert refused.exit_code == 78
    assert "folders here: Archive/2026, INBOX, [Gmail]/Drafts, [Gmail]/Sent Mail, " \
        "[Gmail]/Spam" in refused.stderr
    for n, name in enumerate(("'[Gmail]//Spam'", "'Spam/'", "'[Gmail]/.Spam'")):
        bad = make_book(tmp_path / f"bad{n}", maildir_section(
            extra=f"  folders: {{junk: {name}}}\n"), run=False)
        refused = cadence(bad, "sync", "--today", AFTER)
        assert refused.exit_code == 78 and "is not a Maildir folder name" in refused.stderr


def test_a_maildir_plus_plus_root_with_its_folders_as_directories(tmp_path):
    """README "Semantics" (the mailbox): the inbox at the root and the other folders as
    directories (`Junk/cur`, not `.Junk/cur`), as Dovecot's LAYOUT=fs or mbsync's `SubFolders
    Verbatim` with the inbox at the root keep them: found by their usual names or as
    `folders` names them, read by sync, and push stores there. A `.Name` folder comes first."""
    tree = make_maildir(tmp_path / "Mail", folders=())
    for name in ("Junk", "Sent", "Drafts", "[Gmail]/Spam"):
        for part in ("cur", "new", "tmp"):
            (tree.root / name / part).mkdir(parents=True)
    spam = make("junk_reply")
    (tree.root / "Junk" / "new" / "1796289400.1_1.laptop").write_bytes(spam)
    book = make_book(tmp_path / "book", maildir_section())
    _reads_the_junk_reply(book, tree, spam, "Junk, Sent")
    assert cadence(book, "push", "--today", DRAFTED).exit_code == 0
    stored = sorted(os.listdir(tree.root / "Drafts" / "cur"))
    assert len(stored) == 3 and all(name.endswith(":2,D") for name in stored)
    assert os.listdir(tree.root / "cur") == []
    gmail = make_book(tmp_path / "gmail", maildir_section(
        extra="  folders: {junk: '[Gmail]/Spam'}\n"))
    (tree.root / "[Gmail]" / "Spam" / "new" / "1796289400.1_1.laptop").write_bytes(spam)
    _reads_the_junk_reply(gmail, tree, spam, "[Gmail]/Spam, Sent")
    for part in ("cur", "new", "tmp"):
        (tree.root / ".Junk" / part).mkdir(parents=True)
    dotted = make_book(tmp_path / "dotted", maildir_section())
    assert sync(dotted).stdout.startswith(f"Read 0 messages from {tree.root}: the inbox, Junk,")
    wrong = make_book(tmp_path / "wrong", maildir_section(extra="  folders: {junk: Spam}\n"))
    refused = cadence(wrong, "sync", "--today", AFTER)
    assert refused.exit_code == 78
    assert "mail.folders.junk: the Maildir has no folder .Spam or Spam/" in refused.stderr
    assert "folders here: Drafts, Junk, Sent, [Gmail]/Spam" in refused.stderr


@pytest.mark.parametrize("layout", ["maildir++", "folders"])
def test_doctor_knows_either_layout_and_refuses_neither(tmp_path, layout):
    tree = make_maildir(tmp_path / "Mail", layout=layout)
    book = make_book(tmp_path / "book", maildir_section())
    result = cadence(book, "doctor", "--today", AFTER, "--json")
    [found] = [f for f in json.loads(result.stdout)["findings"] if f["topic"] == "mailbox"]
    assert found == {"topic": "mailbox", "ok": True, "text": f"the Maildir {tree.root}",
                     "hint": ""}


@pytest.mark.parametrize("layout", ["maildir++", "folders"])
def test_a_linked_folder_is_not_a_folder_of_the_tree_in_either_layout(tmp_path, layout):
    """A folder that is a link, or whose cur/, new/ or tmp/ is one, is not read, and no draft
    is stored through it: the same journal in both layouts."""
    tree = make_maildir(tmp_path / "Mail", folders=("Sent", "Drafts"), layout=layout)
    elsewhere = make_maildir(tmp_path / "elsewhere", folders=(), layout="maildir++")
    elsewhere.add("INBOX", make("junk_reply"))
    junk = tree.folder("Junk")
    os.symlink(elsewhere.root, junk)
    drafts = tree.folder("Drafts")
    shutil.rmtree(drafts / "tmp")
    os.symlink(elsewhere.root / "tmp", drafts / "tmp")
    book = make_book(tmp_path / "book", maildir_section())
    result = sync(book)
    assert result.stdout.splitlines()[0] == f"Read 0 messages from {tree.root}: the inbox, Sent."
    assert new_lines(LEDGER_JOURNAL_AFTER_RUN, journal(book)) == []
    pushed = cadence(book, "push", "--today", DRAFTED)
    assert pushed.exit_code == 78 and "the mailbox has no drafts folder" in pushed.stderr
    assert sorted(os.listdir(elsewhere.root / "tmp")) == []
    assert sorted(os.listdir(elsewhere.root / "cur")) == []


def test_a_tree_without_an_inbox_is_not_a_maildir(tmp_path):
    """A folder holding other Maildir trees (two accounts side by side) is not one: no
    folder of it is INBOX. `sync` says so as for any folder that is not a Maildir, and so
    does `doctor`."""
    make_maildir(tmp_path / "Mail" / "work")
    make_maildir(tmp_path / "Mail" / "home")
    book = make_book(tmp_path / "book", maildir_section())
    refused = cadence(book, "sync", "--today", AFTER)
    assert refused.exit_code == 78
    assert "is not a Maildir (no cur/ folder)" in refused.stderr
    doctor = cadence(book, "doctor", "--today", AFTER, "--json")
    [found] = [f for f in json.loads(doctor.stdout)["findings"] if f["topic"] == "mailbox"]
    assert found["ok"] is False and "is not a Maildir" in found["text"]
    named = make_book(tmp_path / "named", maildir_section(extra="  folders: {inbox: work}\n"))
    synced = cadence(named, "sync", "--today", AFTER)
    assert synced.exit_code == 0
    assert synced.stdout.startswith(f"Read 0 messages from {tmp_path / 'Mail'}: work.")


def test_a_maildir_without_a_sent_folder_says_so(tmp_path):
    tree = make_maildir(tmp_path / "Mail", folders=("Junk",))
    book = make_book(tmp_path / "book", maildir_section())
    out = sync(book).stdout.splitlines()
    assert out[:2] == [f"Read 0 messages from {tree.root}: the inbox, Junk.",
                       "No sent folder found: name it in cadence.yaml (mail: folders: sent: ...)."]


def test_due_is_the_same_with_and_without_the_journals_cache(tmp_path, tree, monkeypatch):
    """The mail rows are folded like every other row (cadence/trail.py): `due`, its notices
    included, says the same from a fold kept between commands as from a fresh read."""
    book = make_book(tmp_path / "book", maildir_section())
    steps = [
        lambda: tree.add("Junk", make("junk_reply", from_addr=ANNA_MAIL)),
        lambda: tree.add("INBOX", make("gmail_bounce", in_reply_to=draft_id("c1"))),
        lambda: tree.add("Sent", make("sent_copy", message_id=draft_id("c2"))),
        lambda: cadence(book, "run", "--today", "2026-12-05"),
        lambda: tree.add("INBOX", make("autoreply_exchange", from_addr=KARIN_MAIL,
                                       date=at("2026-12-06"))),
    ]
    for step in steps:
        step()
        sync(book, "2026-12-06")
        for today in ("2026-12-05", "2026-12-08", "2026-12-12"):
            cached = due_json(book, today)
            monkeypatch.setenv("CADENCE_NO_CACHE", "1")
            assert due_json(book, today) == cached
            monkeypatch.delenv("CADENCE_NO_CACHE")


@pytest.mark.parametrize("environment, command, text", [
    ({}, "pass show mail/eva", "IMAP eva@konsult.example on imap.konsult.example:993 (tls, "
     "password from `password_command`, which runs `pass`)"),
    # split as it is run, a shell's words: not the first run of letters before a space
    ({}, "'/usr/bin/pass' show mail/eva", "IMAP eva@konsult.example on imap.konsult.example:993 "
     "(tls, password from `password_command`, which runs `/usr/bin/pass`)"),
    ({}, "/usr/bin/pass' 'mail/eva x", "IMAP eva@konsult.example on imap.konsult.example:993 "
     "(tls, password from `password_command`, which runs `/usr/bin/pass mail/eva`)"),
    ({"CADENCE_IMAP_PASSWORD": "s3cret"}, "pass show mail/eva", "IMAP eva@konsult.example on "
     "imap.konsult.example:993 (tls, password from CADENCE_IMAP_PASSWORD)"),
])
def test_doctor_names_the_program_a_books_password_command_runs(tmp_path, monkeypatch,
                                                                 environment, command, text):
    """The one program a book's cadence.yaml can have cadence run is named for review; the
    variable, when set, wins and the command is not run (README, "Against a hostile book")."""
    monkeypatch.delenv("CADENCE_IMAP_PASSWORD", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    book = make_book(tmp_path / "book", "mail:\n  imap: imap.konsult.example\n"
                     f"  user: eva@konsult.example\n  password_command: \"{command}\"\n")
    result = cadence(book, "doctor", "--today", AFTER, "--json")
    [found] = [f for f in json.loads(result.stdout)["findings"] if f["topic"] == "mailbox"]
    assert (found["ok"], found["text"]) == (True, text)
    # the arguments (a password store's entry; `echo PASSWORD` would be the password) never
    assert "s3cret" not in result.stdout and "mail/eva" not in result.stdout.replace(
        "/usr/bin/pass mail/eva", "")  # (there they are the program's name, as sync splits it)


def test_doctor_says_a_password_command_that_cannot_be_split(tmp_path, monkeypatch):
    """`sync` refuses a `password_command` with an unclosed quote (cadence.mailpass): doctor
    says so, not ok, before cron's sync fails."""
    monkeypatch.delenv("CADENCE_IMAP_PASSWORD", raising=False)
    book = make_book(tmp_path / "book", "mail:\n  imap: imap.konsult.example\n"
                     "  user: eva@konsult.example\n  password_command: \"pass show 'mail\"\n")
    result = cadence(book, "doctor", "--today", AFTER, "--json")
    [found] = [f for f in json.loads(result.stdout)["findings"] if f["topic"] == "mailbox"]
    assert found["ok"] is False and "cannot be split into words" in found["text"]
    assert found["hint"] == "quote it as in a shell"
