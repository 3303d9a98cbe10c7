"""`cadence sync` and `cadence push` against a real IMAP server (Dovecot on 127.0.0.1, started by
tests/mail/server.py; SPEC section 10): the same journal as from a Maildir, UID cursors, the
server's flags left alone, and every way the network fails (exit 74), a login is refused (77)
or a password cannot be had (78).

Each test names the SPEC section 10 row or sentence (or issue 15's point) it proves. The book
is tests/mailbook.py's; the password comes by CADENCE_IMAP_PASSWORD and the test CA by
SSL_CERT_FILE, so certificate verification stays on as in production.
"""
from __future__ import annotations

import json
import os
import stat
import time

import pytest

from mail.faults import WRONG_PASSWORD
from mail.fixtures import *  # noqa: F401,F403  (pytest fixtures)
from mail.messages import make
from mail.server import append, change_uidvalidity, messages
from mailbook import (AFTER, ANNA_MAIL, DRAFTED, JONAS_MAIL, KARIN_MAIL, SUBJECT, UTC, at,
                      book_files, cadence, draft_id, expected_json, expected_rows, imap_section,
                      journal, make_book, mid, morning, new_lines, redraft_mended, sync)
from smallbook import cadence_process, invoke

# what sync must never send: it reads, and `push` alone appends
CHANGES = {"STORE", "UID STORE", "EXPUNGE", "UID EXPUNGE", "MOVE", "UID MOVE", "COPY", "UID COPY",
           "DELETE", "RENAME", "CREATE", "APPEND", "SELECT"}


@pytest.fixture
def imap(mail_server, mail_user, monkeypatch):
    """Put messages in the test user's folders: imap(folder, bytes, date=None)."""
    monkeypatch.setenv("CADENCE_IMAP_PASSWORD", mail_user.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(mail_server.ca_file))

    def add(folder, data, date=None, flags=()):
        return append(mail_server, mail_user, folder, data, flags=flags, date=date)
    return add


def direct(mail_server) -> str:
    return f"{mail_server.host}:{mail_server.imaps_port}"


def imap_book(tmp_path, address: str, login: str, extra: str = "", name: str = "book") -> str:
    return make_book(tmp_path / name, imap_section(address, login, extra))


def command_lines(proxy, start: int = 0) -> list:
    """The commands a proxy saw from `start` on, without the literal lines of an APPEND."""
    return [c for c in proxy.commands[start:] if c.split()[0].isupper()
            and c.split()[0] in {"CAPABILITY", "LOGIN", "LIST", "EXAMINE", "SELECT", "UID",
                                 "APPEND", "LOGOUT", "STARTTLS", "NOOP", "SEARCH", "FETCH",
                                 "STORE", "EXPUNGE", "MOVE", "COPY", "DELETE", "ID", "ENABLE",
                                 "CLOSE", "STATUS", "LSUB", "NAMESPACE", "RENAME", "CREATE"}]


# --- the same journal as from a Maildir ---------------------------------------------------------

def test_golden_morning_over_imap(tmp_path, mail_server, mail_user, imap):
    """Golden, as test_sync.py's for a Maildir: the same rows and `sync --json` document."""
    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    found = morning(imap)
    before = journal(book)
    result = sync(book, AFTER, "--json")
    assert json.loads(result.stdout) == expected_json(found)
    assert new_lines(before, journal(book)) == expected_rows(found)
    assert result.stderr == ("warning: a reply from Anna Berg is in your junk folder "
                             "(2026-12-03): move it to the inbox, and tell your mail program it "
                             "is not spam\n")
    out = sync(book).stdout.splitlines()  # the junk folder alone is read whole again
    assert out[0] == (f"Read 1 message from {mail_user.login} on {direct(mail_server)}: INBOX, "
                      "Junk, Sent.")


def test_sync_never_changes_the_mailbox(tmp_path, mail_server, mail_user, imap, imap_proxy):
    """"sync never deletes, moves or flags mail": flags (\\Seen included) as they were, and the
    command log shows folders opened read-only (EXAMINE), bodies fetched with BODY.PEEK, no
    STORE, EXPUNGE, MOVE, COPY, DELETE."""
    morning(imap)
    imap("INBOX", make("gmail_reply", from_addr=KARIN_MAIL), flags=[r"\Flagged"])
    before = {f: messages(mail_server, mail_user, f) for f in ("INBOX", "Junk", "Sent")}
    proxy = imap_proxy()
    book = imap_book(tmp_path, proxy.address, mail_user.login)
    sync(book)
    sync(book, AFTER, "--json")
    assert {f: messages(mail_server, mail_user, f) for f in before} == before
    names = set(proxy.command_names)
    assert names & CHANGES == set()
    assert {"EXAMINE", "UID SEARCH", "UID FETCH"} <= names
    fetches = [c for c in proxy.commands if c.startswith("UID FETCH")]
    assert fetches and all("BODY.PEEK[" in c and " BODY[" not in c for c in fetches)


def test_the_users_own_login_is_her_own_address(tmp_path, mail_server, mail_user, imap):
    """"a message from the user's own address (the sender's, or mail.user) is left alone"."""
    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    imap("INBOX", make("gmail_reply", from_addr=mail_user.login.upper(),
                       in_reply_to=draft_id("c1")))
    before = book_files(book)
    sync(book)
    assert book_files(book) == before


def test_a_broken_date_is_dated_by_the_internaldate(tmp_path, mail_server, mail_user, imap):
    """"a message without a usable Date is dated by the IMAP INTERNALDATE", and says so."""
    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    data = make("broken_date", from_addr=JONAS_MAIL)
    # the 1st in Stockholm (Dovecot takes no INTERNALDATE after its clock's now)
    imap("INBOX", data, date=at("2026-11-30", 23, 30, zone=UTC))
    before = journal(book)
    result = sync(book, "2026-12-05")
    assert new_lines(before, journal(book))[0] == (
        f"2026-12-01,c1,reply,p,,email,,{mid(data)} Re: {SUBJECT} (dated by its INTERNALDATE: "
        "the Date header is unusable)")
    assert (f"c1: {mid(data)} has no usable Date header; dated 2026-12-01 by the server "
            "(INTERNALDATE)") in result.stdout.splitlines()


def test_a_message_without_an_id_has_the_same_digest_as_in_a_maildir(tmp_path, mail_server,
                                                                        mail_user, imap):
    """"A message without a Message-ID is known by a digest of its bytes": the server's CRLF
    and a Maildir's LF give one id, and a second copy is not a second row."""
    from test_sync import digest_of

    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    data = make("no_message_id", from_addr=JONAS_MAIL)
    imap("INBOX", data)
    imap("Junk", data)
    before = journal(book)
    sync(book)
    assert new_lines(before, journal(book)) == [
        f"2026-12-03,c1,reply,p,,email,,{digest_of(data)} Re: {SUBJECT}",
        "2026-12-03,c1,status,p,,,,replied (a reply by email)"]


def test_a_huge_message_is_fetched_by_its_headers(tmp_path, mail_server, mail_user, imap,
                                                  imap_proxy):
    """Issue 15, 6: "sync reads headers, not attachments": a 50 MiB message costs a header
    fetch (BODY.PEEK[HEADER]); no command asks for its body."""
    data = make("huge", from_addr=JONAS_MAIL)
    imap("INBOX", data)
    proxy = imap_proxy()
    book = imap_book(tmp_path, proxy.address, mail_user.login)
    before = journal(book)
    started = time.monotonic()
    sync(book)
    assert time.monotonic() - started < 3.0
    assert new_lines(before, journal(book))[0] == \
        f"2026-12-03,c1,reply,p,,email,,{mid(data)} Re: {SUBJECT}"
    fetches = [c for c in proxy.commands if "FETCH" in c]
    assert fetches == ["UID FETCH 1 (BODY.PEEK[HEADER] INTERNALDATE)"]


# --- where the last sync stopped ----------------------------------------------------------------

def searches(proxy, start: int = 0) -> list:
    return [c for c in proxy.commands[start:] if c.startswith(("EXAMINE", "UID SEARCH",
                                                               "UID FETCH"))]


def test_a_second_sync_reads_only_what_is_new(tmp_path, mail_server, mail_user, imap,
                                              imap_proxy):
    """Issue 15, 1: "UID-based reading so that a sync reads only what is new since the last"
    (the junk folder is read whole: each sync says which replies still sit there); and the
    result is the one a fresh full read gives."""
    first = make("outlook_reply", in_reply_to=draft_id("c1"))
    imap("INBOX", first)
    imap("INBOX", make("stranger"))
    imap("Sent", make("sent_copy", message_id=draft_id("c1")))
    proxy = imap_proxy()
    book = imap_book(tmp_path, proxy.address, mail_user.login)
    sync(book)
    second = make("gmail_reply", from_addr=KARIN_MAIL)
    imap("INBOX", second)
    start = len(proxy.commands)
    sync(book)
    assert searches(proxy, start) == [
        'EXAMINE "INBOX"', "UID SEARCH UID 3:*", "UID FETCH 3 (BODY.PEEK[HEADER] INTERNALDATE)",
        'EXAMINE "Junk"', "UID SEARCH UID 1:*",
        'EXAMINE "Sent"', "UID SEARCH UID 2:*"]
    fresh = imap_book(tmp_path, direct(mail_server), mail_user.login, name="fresh")
    sync(fresh)
    assert journal(book) == journal(fresh)
    assert book_files(book)["contacts.csv"] == book_files(fresh)["contacts.csv"]


def test_a_new_uidvalidity_means_a_full_read_and_no_second_row(tmp_path, mail_server, mail_user,
                                                               imap, imap_proxy):
    """Issue 15, 1: "survive a UIDVALIDITY change": the server renumbered the inbox; sync reads
    it whole again, and the journal's Message-IDs keep each message to one row."""
    data = make("outlook_reply", in_reply_to=draft_id("c1"))
    imap("INBOX", data)
    imap("INBOX", make("stranger"))
    proxy = imap_proxy()
    book = imap_book(tmp_path, proxy.address, mail_user.login)
    sync(book)
    kept = journal(book)
    change_uidvalidity(mail_server, mail_user, "INBOX")
    new = make("gmail_reply", from_addr=KARIN_MAIL)
    imap("INBOX", new)
    start = len(proxy.commands)
    sync(book)
    assert searches(proxy, start)[:3] == [
        'EXAMINE "INBOX"', "UID SEARCH UID 1:*",
        "UID FETCH 1,2,3 (BODY.PEEK[HEADER] INTERNALDATE)"]
    assert new_lines(kept, journal(book)) == [
        f"2026-12-03,c2,reply,p,,email,,{mid(new)} Re: {SUBJECT}",
        "2026-12-03,c2,status,p,,,,replied (a reply by email)"]


def test_a_journal_taken_back_brings_its_rows_back(tmp_path, mail_server, mail_user, imap,
                                                   imap_proxy):
    """The cursors hold only while the journal begins with the bytes it had (cadence/cache.py):
    a journal and ledger taken back to an earlier copy (`git checkout`) are read into again."""
    morning(imap)
    proxy = imap_proxy()
    book = imap_book(tmp_path, proxy.address, mail_user.login)
    kept = book_files(book)
    sync(book)
    synced = book_files(book)
    for name in ("history.csv", "contacts.csv"):
        with open(os.path.join(book, name), "wb") as handle:
            handle.write(kept[name])
    start = len(proxy.commands)
    sync(book)
    assert "UID SEARCH UID 1:*" in searches(proxy, start)[1]
    assert book_files(book) == synced


def test_a_changed_address_in_the_ledger_reads_everything_again(tmp_path, mail_server,
                                                                mail_user, imap):
    """The cursors hold only while the contacts' addresses are as they were: mail read before,
    from a stranger, is a contact's reply once the ledger gives that contact the address."""
    data = make("stranger")
    imap("INBOX", data)
    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    before = journal(book)
    sync(book)
    assert journal(book) == before
    path = os.path.join(book, "contacts.csv")
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text.replace(ANNA_MAIL, "lars.holm@nordbygg.example"))
    sync(book)
    assert new_lines(before, journal(book))[0] == \
        f"2026-12-03,c3,reply,p,,email,,{mid(data)} Question about your workshops"


def test_a_message_dated_after_today_is_read_again_by_a_later_sync(tmp_path, mail_server,
                                                                   mail_user, imap):
    """"one dated after --today is left for a later sync": the cursor stops before it."""
    early = make("gmail_reply", from_addr=KARIN_MAIL)
    late = make("outlook_reply", date=at("2026-12-06"))
    imap("INBOX", late)
    imap("INBOX", early)
    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    before = journal(book)
    sync(book, "2026-12-04")
    assert new_lines(before, journal(book)) == [
        f"2026-12-03,c2,reply,p,,email,,{mid(early)} Re: {SUBJECT}",
        "2026-12-03,c2,status,p,,,,replied (a reply by email)"]
    middle = journal(book)
    sync(book, "2026-12-06")
    assert new_lines(middle, journal(book)) == [
        f"2026-12-06,c1,reply,p,,email,,{mid(late)} RE: {SUBJECT}",
        "2026-12-06,c1,status,p,,,,replied (a reply by email)"]


# --- the network fails --------------------------------------------------------------------------

def test_an_interrupted_sync_appends_nothing_and_the_next_one_completes(tmp_path, mail_server,
                                                                       mail_user, imap,
                                                                       imap_proxy):
    """"nothing is appended to the journal from a sync that did not finish reading"; the
    connection cut while the headers come: 74; the next sync does the whole work."""
    found = morning(imap)
    proxy = imap_proxy(cut_after_command="FETCH", then_bytes=300, cut_connections=1)
    book = imap_book(tmp_path, proxy.address, mail_user.login)
    before = book_files(book)
    cut = cadence(book, "sync", "--today", AFTER)
    assert cut.exit_code == 74, cut.output
    assert proxy.cuts == 1
    assert cut.stderr == (
        f"{book}/cadence.yaml:5:1: reading INBOX on {proxy.address}: command: FETCH => "
        "socket error: EOF\n  hint: the server broke off or answered unexpectedly; run sync "
        "again: nothing was written\n")
    assert book_files(book) == before
    sync(book)
    assert new_lines(before["history.csv"].decode(), journal(book)) == expected_rows(found)


def test_a_wrong_password_is_77_with_the_servers_words_and_never_shown(tmp_path, mail_server,
                                                                        mail_user, imap,
                                                                        monkeypatch):
    """"a rejected login exits 77 with the server's words"; issue 15, 6: "The password never
    appears in output, --debug tracebacks or the journal"."""
    monkeypatch.setenv("CADENCE_IMAP_PASSWORD", WRONG_PASSWORD)
    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    before = book_files(book)
    result = invoke("-C", book, "sync", "--today", AFTER)
    assert result.exit_code == 77, result.output
    assert result.stderr == (
        f"{book}/cadence.yaml:7:9: the server refused the login of {mail_user.login}: "
        "[AUTHENTICATIONFAILED] Authentication failed.\n"
        "  hint: check mail.user and the password (password_command or "
        "CADENCE_IMAP_PASSWORD)\n")
    assert WRONG_PASSWORD not in result.output and result.stdout == ""
    # --debug shows the failure's traceback, in a process of its own as a user sees it
    env = {"CADENCE_IMAP_PASSWORD": WRONG_PASSWORD, "SSL_CERT_FILE": str(mail_server.ca_file),
           "CADENCE_CACHE_DIR": os.environ["CADENCE_CACHE_DIR"], "COLUMNS": "1000"}
    done = cadence_process("--debug", "-C", book, "sync", "--today", AFTER, env=env)
    assert done.returncode != 0 and b"Traceback" in done.stderr
    assert b"[AUTHENTICATIONFAILED] Authentication failed." in done.stderr
    assert WRONG_PASSWORD.encode() not in done.stderr + done.stdout
    assert book_files(book) == before


def test_the_password_is_never_shown_even_in_a_debug_traceback(tmp_path, mail_server, mail_user,
                                                                imap, monkeypatch):
    """An unforeseen error after login, under --debug, prints a traceback: the password is
    not in it (mailpass.Secret hides itself from reprs and locals)."""
    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    wrapper = ("import cadence.commands.mail as m\n"
               "def explode(*a, **k):\n    raise RuntimeError('something unforeseen')\n"
               "m._weigh = explode\n")
    env = {"CADENCE_IMAP_PASSWORD": mail_user.password, "SSL_CERT_FILE": str(mail_server.ca_file),
           "CADENCE_CACHE_DIR": os.environ["CADENCE_CACHE_DIR"]}
    done = cadence_process("--debug", "-C", book, "sync", "--today", AFTER, env=env,
                           wrapper=wrapper)
    assert b"something unforeseen" in done.stderr and b"Traceback" in done.stderr
    assert mail_user.password.encode() not in done.stderr + done.stdout


def test_a_refused_connection_is_74(tmp_path, mail_user, imap, refused_port):
    """"Network failures exit 74 (... a refused connection ...)"."""
    book = imap_book(tmp_path, refused_port.address, mail_user.login)
    result = cadence(book, "sync", "--today", AFTER)
    assert (result.exit_code, result.stderr) == (74, (
        f"{book}/cadence.yaml:5:1: connecting to {refused_port.address}: connection refused\n"
        "  hint: check mail.imap (host and port)\n"))


def test_a_silent_server_times_out_as_configured(tmp_path, mail_user, imap, silent_server):
    """"Network failures exit 74 (a timeout ...)", after `timeout` seconds, not 30."""
    book = imap_book(tmp_path, silent_server.address, mail_user.login, "  timeout: 1\n")
    started = time.monotonic()
    result = cadence(book, "sync", "--today", AFTER)
    assert time.monotonic() - started < 5
    assert (result.exit_code, result.stderr) == (74, (
        f"{book}/cadence.yaml:5:1: connecting to {silent_server.address}: no answer in 1 seconds\n"
        "  hint: check the network, or raise `timeout` in the mail section\n"))


def test_starttls_to_a_server_that_waits_for_tls_says_which_setting_to_look_at(
        tmp_path, mail_user, imap, silent_server):
    """A server on port 993 says nothing until TLS begins, and a STARTTLS client waits for
    its greeting: the timeout names `security` and the ports, not the network alone."""
    book = imap_book(tmp_path, silent_server.address, mail_user.login,
                     "  security: starttls\n  timeout: 1\n")
    result = cadence(book, "sync", "--today", AFTER)
    assert (result.exit_code, result.stderr) == (74, (
        f"{book}/cadence.yaml:5:1: connecting to {silent_server.address}: no answer in 1 seconds\n"
        "  hint: with `security: starttls` a server on a TLS port (993) waits for TLS and says "
        "nothing: leave `security` out for such a port, or use the port for STARTTLS (143); else "
        "check the network, or raise `timeout` in the mail section\n"))


UNTRUSTED_HINT = ("  hint: if the server uses a certificate of its own, add its CA to the system's "
                  "store (or SSL_CERT_FILE); `tls_verify: false` in the mail section turns the "
                  "check off, and anyone on the way could then read your password\n")


@pytest.mark.parametrize("fixture, security, why", [
    ("untrusted_tls", "", "self-signed certificate"),
    ("untrusted_starttls", "  security: starttls\n", "self-signed certificate"),
    ("wrong_host_tls", "", "IP address mismatch, certificate is not valid for '127.0.0.1'."),
])
def test_a_certificate_that_does_not_verify_is_74_with_the_hint(tmp_path, mail_user, imap,
                                                                request, fixture, security, why):
    """"a TLS certificate that does not verify, unless tls_verify: false is set" -> 74; the
    same server with `tls_verify: false` is read (but for a certificate of another host,
    which stays refused: test below)."""
    proxy = request.getfixturevalue(fixture)
    book = imap_book(tmp_path, proxy.address, mail_user.login, security)
    before = book_files(book)
    result = cadence(book, "sync", "--today", AFTER)
    assert (result.exit_code, result.stderr) == (74, (
        f"{book}/cadence.yaml:5:1: connecting to {proxy.address}: the server's TLS certificate does not "
        f"verify ({why})\n" + UNTRUSTED_HINT))
    assert book_files(book) == before


@pytest.mark.parametrize("fixture, security", [
    ("untrusted_tls", ""), ("untrusted_starttls", "  security: starttls\n")])
def test_tls_verify_false_reaches_a_server_of_its_own(tmp_path, mail_user, imap, request,
                                                      fixture, security):
    proxy = request.getfixturevalue(fixture)
    imap("INBOX", make("outlook_reply", in_reply_to=draft_id("c1")))
    book = imap_book(tmp_path, proxy.address, mail_user.login,
                     security + "  tls_verify: false\n")
    before = journal(book)
    sync(book)
    assert new_lines(before, journal(book))[1] == \
        "2026-12-03,c1,status,p,,,,replied (a reply by email)"


def test_starttls_on_the_plain_port(tmp_path, mail_server, mail_user, imap, imap_proxy):
    """`security: starttls` (README: "implicit TLS on 993 unless security: starttls"): on
    Dovecot's plain port, and through a proxy that shows STARTTLS comes before LOGIN."""
    imap("INBOX", make("outlook_reply", in_reply_to=draft_id("c1")))
    plain = imap_book(tmp_path, f"{mail_server.host}:{mail_server.imap_port}", mail_user.login,
                      "  security: starttls\n")
    sync(plain)
    assert journal(plain).endswith("2026-12-03,c1,status,p,,,,replied (a reply by email)\n")
    proxy = imap_proxy(security="starttls")
    book = imap_book(tmp_path, proxy.address, mail_user.login, "  security: starttls\n",
                     name="proxied")
    sync(book)
    assert proxy.command_names[:3] == ["CAPABILITY", "STARTTLS", "CAPABILITY"] or \
        proxy.command_names.index("STARTTLS") < proxy.command_names.index("LOGIN")
    assert journal(book) == journal(plain)


def test_implicit_tls_on_the_plain_port_is_74(tmp_path, mail_server, mail_user, imap):
    book = imap_book(tmp_path, f"{mail_server.host}:{mail_server.imap_port}", mail_user.login)
    result = cadence(book, "sync", "--today", AFTER)
    assert result.exit_code == 74
    assert result.stderr.startswith(
        f"{book}/cadence.yaml:5:1: connecting to {mail_server.host}:{mail_server.imap_port}: TLS failed (")
    assert "is it the right port? 993 speaks TLS at once; 143 needs `security: starttls`" in \
        result.stderr


# --- folders --------------------------------------------------------------------------------------

def test_special_use_finds_the_folders_and_folders_names_them(tmp_path, mail_server, mail_user,
                                                               imap):
    """`folders`: "IMAP: found by SPECIAL-USE when absent"; named, the named folder is read
    (here the junk folder is Archive) and the special-use one is not."""
    in_junk = make("junk_reply", in_reply_to=draft_id("c1"))
    in_archive = make("junk_reply", from_addr=KARIN_MAIL, in_reply_to=draft_id("c2"))
    imap("Junk", in_junk)
    imap("Archive", in_archive)
    found = imap_book(tmp_path, direct(mail_server), mail_user.login)
    named = imap_book(tmp_path, direct(mail_server), mail_user.login,
                      "  folders: {junk: Archive}\n", name="named")
    for book, data, contact in ((found, in_junk, "c1"), (named, in_archive, "c2")):
        before = journal(book)
        sync(book)
        assert new_lines(before, journal(book))[0] == \
            f"2026-12-03,{contact},reply,p,,email,,junk: {mid(data)} Re: {SUBJECT}"


def test_a_named_folder_the_server_lacks_is_78(tmp_path, mail_server, mail_user, imap):
    book = imap_book(tmp_path, direct(mail_server), mail_user.login, "  folders: {junk: Spam}\n")
    result = cadence(book, "sync", "--today", AFTER)
    assert result.exit_code == 78
    assert result.stderr.startswith(
        f"{book}/cadence.yaml:8:19: mail.folders.junk: the server has no folder 'Spam'\n"
        "  hint: folders there: Archive, Drafts, INBOX, Junk, Sent, Trash\n")


# --- the password -------------------------------------------------------------------------------

def script(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_password_command_gives_the_password(tmp_path, mail_server, mail_user, imap,
                                             monkeypatch):
    """`password_command: pass show mail/eva` "or the CADENCE_IMAP_PASSWORD environment
    variable": the command's first line is the password."""
    monkeypatch.delenv("CADENCE_IMAP_PASSWORD")
    command = script(tmp_path, "pass.sh", f"echo '{mail_user.password}'\necho second line\n")
    imap("INBOX", make("outlook_reply", in_reply_to=draft_id("c1")))
    book = imap_book(tmp_path, direct(mail_server), mail_user.login,
                     f"  password_command: {command} show mail/eva\n")
    before = journal(book)
    result = sync(book)
    assert mail_user.password not in result.output
    assert len(new_lines(before, journal(book))) == 2


@pytest.mark.parametrize("body, words", [
    ("echo 'gpg: decryption failed: No secret key' >&2\necho more >&2\nexit 2\n",
     "mail.password_command exited 2: gpg: decryption failed: No secret key"),
    ("exit 0\n", "mail.password_command printed no password"),
    (None, "mail.password_command: 'no-such-password-program' not found"),
])
def test_a_password_command_that_fails_is_78(tmp_path, mail_server, mail_user, imap,
                                             monkeypatch, body, words):
    monkeypatch.delenv("CADENCE_IMAP_PASSWORD")
    command = script(tmp_path, "pass.sh", body) if body else "no-such-password-program"
    book = imap_book(tmp_path, direct(mail_server), mail_user.login,
                     f"  password_command: {command}\n")
    result = cadence(book, "sync", "--today", AFTER)
    assert result.exit_code == 78
    assert result.stderr.splitlines()[0] == f"{book}/cadence.yaml:8:21: {words}"


# --- push ---------------------------------------------------------------------------------------

def test_push_appends_each_draft_once_with_the_draft_flag(tmp_path, mail_server, mail_user,
                                                          imap, imap_proxy):
    """push: "IMAP APPEND with the \\Draft flag"; "A draft whose Message-ID is already there
    is not stored twice"; --dry-run stores nothing."""
    proxy = imap_proxy()
    book = imap_book(tmp_path, proxy.address, mail_user.login)
    folder = os.path.join(book, "drafts", DRAFTED)
    drafts = [open(os.path.join(folder, n), "rb").read() for n in sorted(os.listdir(folder))
              if n.endswith(".eml")]
    dry = cadence(book, "push", "--today", DRAFTED, "--dry-run")
    assert dry.exit_code == 0 and dry.stdout.startswith("Would store 3 drafts ")
    assert messages(mail_server, mail_user, "Drafts") == []
    assert "APPEND" not in proxy.command_names
    result = cadence(book, "push", "--today", DRAFTED)
    assert result.exit_code == 0, result.output
    stored = messages(mail_server, mail_user, "Drafts")
    assert [m.flags for m in stored] == [(r"\Draft",)] * 3
    assert [m.data.replace(b"\r\n", b"\n") for m in stored] == \
        [d.replace(b"\r\n", b"\n") for d in drafts]
    assert {m.internaldate.astimezone(UTC) for m in stored} == {at(DRAFTED, 9, 0).astimezone(UTC)}
    assert proxy.command_names.count("APPEND") == 3
    again = cadence(book, "push", "--today", DRAFTED, "--json")
    assert json.loads(again.stdout)["stored"] == []
    assert len(json.loads(again.stdout)["already"]) == 3
    assert proxy.command_names.count("APPEND") == 3
    assert len(messages(mail_server, mail_user, "Drafts")) == 3


def test_push_keeps_out_a_draft_made_again_with_another_text(tmp_path, mail_server, mail_user,
                                                             imap):
    """The copy on the server is compared by its text (fetched with the headers), CRLF and
    all: the same draft is already there, one made again with another text is not stored."""
    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    assert cadence(book, "push", "--today", DRAFTED).exit_code == 0
    redraft_mended(book, "c1")
    result = cadence(book, "push", "--today", DRAFTED, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["stored"], len(document["already"])) == ([], 2)
    assert [d["message_id"] for d in document["changed"]] == [draft_id("c1")]
    assert "not stored: the drafts folder holds another text" in result.stderr
    stored = messages(mail_server, mail_user, "Drafts")
    assert len(stored) == 3 and not any(b"Hi there" in m.data for m in stored)


def test_push_never_puts_a_sent_email_back_in_drafts(tmp_path, mail_server, mail_user, imap):
    """A draft whose copy is in the sent folder (found by SEARCH HEADER Message-ID) was sent:
    push leaves it out, so it cannot go out twice."""
    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    folder = os.path.join(book, "drafts", DRAFTED)
    first = sorted(n for n in os.listdir(folder) if n.endswith(".eml"))[0]
    imap("Sent", open(os.path.join(folder, first), "rb").read())
    result = cadence(book, "push", "--today", DRAFTED, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [d["file"] for d in document["sent"]] == [first]
    assert len(document["stored"]) == 2
    assert len(messages(mail_server, mail_user, "Drafts")) == 2


def test_a_reply_moved_out_of_junk_is_no_longer_warned_about(tmp_path, mail_server, mail_user,
                                                              imap):
    """Row 2: "each sync lists it ... while it stays there": moved to the inbox (a new UID
    there), it is neither warned about nor journaled again."""
    data = make("junk_reply", in_reply_to=draft_id("c1"))
    imap("Junk", data)
    book = imap_book(tmp_path, direct(mail_server), mail_user.login)
    warning = ("warning: a reply from Jonas Ek is in your junk folder (2026-12-03): move it to "
               "the inbox, and tell your mail program it is not spam")
    assert warning in sync(book).stdout.splitlines()
    kept = journal(book)
    with mail_server.connect(mail_user) as session:
        session.select('"Junk"')
        assert session.uid("MOVE", "1", '"INBOX"')[0] == "OK"
    result = sync(book)
    assert warning not in result.stdout and journal(book) == kept


@pytest.mark.parametrize("given, code", [("right", 0), ("wrong", 77)])
def test_a_password_beyond_ascii(tmp_path, mail_server, imap, monkeypatch, given, code):
    """A password such as `pässwörd` logs in (IMAP's LOGIN takes ASCII strings only: such a
    password goes by AUTHENTICATE PLAIN, which carries UTF-8), and a wrong one is refused as
    any other (77), not an internal error."""
    user = mail_server.add_user(password="pässwörd-2026", materialize=False)
    monkeypatch.setenv("CADENCE_IMAP_PASSWORD",
                       "pässwörd-2026" if given == "right" else "fel-lösenord")
    book = imap_book(tmp_path, direct(mail_server), user.login)
    result = cadence(book, "sync", "--today", AFTER)
    assert result.exit_code == code, result.output
    if code:
        assert result.stderr.startswith(f"{book}/cadence.yaml:7:9: the server refused the login "
                                        f"of {user.login}: [AUTHENTICATIONFAILED] ")
        assert "lösenord" not in result.output
    else:
        assert result.stdout.startswith(f"Read 0 messages from {user.login} on ")


def test_a_folder_named_beyond_ascii(tmp_path, mail_server, mail_user, imap):
    """`folders` names a folder as the mail program shows it (Outlook's Swedish junk folder is
    Skräppost); IMAP spells it in modified UTF-7 (RFC 3501 5.1.3), and cadence does that."""
    with mail_server.connect(mail_user) as session:
        assert session.create('"Skr&AOQ-ppost"')[0] == "OK"
    data = make("junk_reply", in_reply_to=draft_id("c1"))
    imap("Skr&AOQ-ppost", data)
    book = imap_book(tmp_path, direct(mail_server), mail_user.login,
                     "  folders: {junk: Skräppost}\n")
    before = journal(book)
    result = sync(book)
    assert new_lines(before, journal(book))[0] == \
        f"2026-12-03,c1,reply,p,,email,,junk: {mid(data)} Re: {SUBJECT}"
    assert result.stdout.startswith(f"Read 1 message from {mail_user.login} on "
                                    f"{direct(mail_server)}: INBOX, Skräppost, Sent.")
