"""cadence.yaml (SPEC section 1): defaults, paths relative to the config, the search upwards,
and every message."""
from __future__ import annotations

import os

import pytest

from cadence.book import default_config, find_config, load_config
from cadence.config import Config, parse_config
from cadence.model import EXIT_CONFIG, EXIT_IO, EXIT_MISSING, Failure

EMPTY_SENDER = {"name": "", "email": "", "phone": "", "address": ""}


def build_file_tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def messages(text):
    config, problems = parse_config(text, "book/cadence.yaml")
    assert (config is None) == bool(problems)
    assert all(problem.code == EXIT_CONFIG for problem in problems)
    return [f"{problem.source}: {problem.message}" for problem in problems]


def test_defaults_without_a_config(tmp_path):
    config = default_config(str(tmp_path))
    assert config == Config(
        root=str(tmp_path),
        ledger=str(tmp_path / "contacts.csv"),
        history=str(tmp_path / "history.csv"),
        playbooks=str(tmp_path / "playbooks"),
        templates=str(tmp_path / "templates"),
        drafts=str(tmp_path / "drafts"),
        timezone="",
        encoding="utf-8",
        sender=EMPTY_SENDER,
        source="",
    )


def test_default_ledger_is_contacts_yaml_when_only_that_exists(tmp_path):
    build_file_tree(tmp_path, {"contacts.yaml": "[]\n"})
    assert default_config(str(tmp_path)).ledger == str(tmp_path / "contacts.yaml")
    build_file_tree(tmp_path, {"contacts.csv": "id\n"})
    assert default_config(str(tmp_path)).ledger == str(tmp_path / "contacts.csv")


@pytest.mark.parametrize("text", ["", "# settings come later\n", "---\n"])
def test_an_empty_config_is_the_defaults(tmp_path, text):
    path = str(tmp_path / "cadence.yaml")
    config, problems = parse_config(text, path)
    assert problems == []
    assert config == Config(**{**default_config(str(tmp_path)).__dict__, "source": path})


def test_every_key(tmp_path):
    path = str(tmp_path / "cadence.yaml")
    config, problems = parse_config(
        "ledger: data/people.yaml\n"
        "history: ../journal.csv\n"
        "playbooks: /srv/playbooks\n"
        "templates: tpl\n"
        "drafts: out/drafts\n"
        "timezone: Europe/Berlin\n"
        "encoding: UTF8\n"
        "sender:\n"
        "  name: Anna Müller\n"
        "  email: anna@example.com\n"
        "  phone: 0049301234\n"
        "  address: |\n"
        "    Hauptstr. 1\n"
        "    10115 Berlin\n",
        path,
    )
    assert problems == []
    assert config.root == str(tmp_path)
    assert config.ledger == str(tmp_path / "data" / "people.yaml")
    assert config.history == str(tmp_path.parent / "journal.csv")
    assert config.playbooks == "/srv/playbooks"
    assert config.templates == str(tmp_path / "tpl")
    assert config.drafts == str(tmp_path / "out" / "drafts")
    assert config.timezone == "Europe/Berlin"
    assert config.encoding == "utf-8"  # the codec's own name, whatever the spelling
    assert config.sender == {"name": "Anna Müller", "email": "anna@example.com",
                             "phone": "0049301234", "address": "Hauptstr. 1\n10115 Berlin"}
    assert config.source == path


def test_empty_values_mean_the_default(tmp_path):
    config, problems = parse_config("timezone:\nledger: ~\nsender:\n",
                                    str(tmp_path / "cadence.yaml"))
    assert problems == []
    assert (config.timezone, config.ledger, config.sender) == (
        "", str(tmp_path / "contacts.csv"), EMPTY_SENDER)


def test_partial_sender_keeps_empty_defaults():
    config, problems = parse_config("sender: {name: Anna}\n", "cadence.yaml")
    assert problems == []
    assert config.sender == {**EMPTY_SENDER, "name": "Anna"}


@pytest.mark.parametrize("name, canonical", [
    ("utf-8", "utf-8"), ("cp1251", "cp1251"), ("windows-1251", "cp1251"), ("latin-1", "iso8859-1"),
])
def test_encodings(name, canonical):
    config, problems = parse_config(f"encoding: {name}\n", "cadence.yaml")
    assert problems == [] and config.encoding == canonical


ERRORS = [
    ("unknown key", "colour: red\n", ["book/cadence.yaml:1:1: unknown key 'colour'"]),
    ("misspelt key", "ledgr: people.csv\n",
     ["book/cadence.yaml:1:1: unknown key 'ledgr' (did you mean 'ledger'?)"]),
    ("duplicate key", "ledger: a.csv\nledger: b.csv\n",
     ["book/cadence.yaml:2:1: duplicate key 'ledger' (first at line 1)"]),
    ("not a mapping", "- ledger\n",
     ["book/cadence.yaml:1:1: the config must be a mapping, got a list"]),
    ("path not text", "drafts: [a, b]\n",
     ["book/cadence.yaml:1:9: `drafts` must be text, got a list"]),
    ("unknown timezone", "timezone: Mars/Olympus\n",
     ["book/cadence.yaml:1:11: unknown timezone 'Mars/Olympus'"]),
    ("misspelt timezone", "timezone: Europe/Berln\n",
     ["book/cadence.yaml:1:11: unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?)"]),
    ("timezone escaping the database", "timezone: ../../etc/passwd\n",
     ["book/cadence.yaml:1:11: unknown timezone '../../etc/passwd'"]),
    ("timezone a number", "timezone: 3\n", ["book/cadence.yaml:1:11: unknown timezone '3'"]),
    ("unknown encoding", "encoding: utf-9\n",
     ["book/cadence.yaml:1:11: unknown encoding 'utf-9'"]),
    ("not a text encoding", "encoding: base64\n",
     ["book/cadence.yaml:1:11: 'base64' is not a text encoding"]),
    ("a codec that refuses every text", "encoding: undefined\n",
     ["book/cadence.yaml:1:11: 'undefined' is not a text encoding"]),
    ("sender not a mapping", "sender: Anna\n",
     ["book/cadence.yaml:1:9: `sender` must be a mapping, got 'Anna'"]),
    ("sender key misspelt", "sender: {name: Anna, adress: x}\n",
     ["book/cadence.yaml:1:22: unknown key 'adress' (did you mean 'address'?)"]),
    ("sender value a list", "sender: {phone: [1, 2]}\n",
     ["book/cadence.yaml:1:17: `sender.phone` must be text, got a list"]),
    ("syntax", "ledger: [a\n",
     ["book/cadence.yaml:2:1: invalid YAML: did not find expected ',' or ']'"]),
    ("tag", "ledger: !!python/name:os.system x\n",
     ["book/cadence.yaml:1:9: tags are not allowed: '!!python/name:os.system'"]),
    ("all problems, sorted", "encoding: nope\ncolour: red\ntimezone: Nowhere/Town\n", [
        "book/cadence.yaml:1:11: unknown encoding 'nope'",
        "book/cadence.yaml:2:1: unknown key 'colour'",
        "book/cadence.yaml:3:11: unknown timezone 'Nowhere/Town'",
    ]),
]


@pytest.mark.parametrize("text, expected", [case[1:] for case in ERRORS],
                         ids=[case[0] for case in ERRORS])
def test_error(text, expected):
    assert messages(text) == expected


def test_hints():
    _, problems = parse_config("timezone: Mars/Olympus\n", "cadence.yaml")
    assert problems[0].hint == "an IANA name such as Europe/Berlin or America/New_York"
    _, problems = parse_config("colour: red\n", "cadence.yaml")
    assert problems[0].hint == ("keys here: ledger, history, playbooks, templates, drafts, "
                                "timezone, encoding, sender, locale, mail")


def test_find_config_in_the_folder_or_its_parents(tmp_path):
    build_file_tree(tmp_path, {"book/cadence.yaml": "", "book/playbooks/x.yaml": ""})
    expected = str(tmp_path / "book" / "cadence.yaml")
    assert find_config(str(tmp_path / "book")) == expected
    assert find_config(str(tmp_path / "book" / "playbooks")) == expected
    assert not (find_config(str(tmp_path)) or "").startswith(str(tmp_path))  # not below


def test_a_folder_named_like_the_config_is_refused(tmp_path):
    """Not skipped for a config further up: the book's settings would silently be another's."""
    (tmp_path / "cadence.yaml").mkdir()
    with pytest.raises(Failure) as caught:
        find_config(str(tmp_path))
    assert caught.value.code == 78 and "cadence.yaml is not a file" in str(caught.value)


def test_load_config_resolves_against_the_config_folder(tmp_path):
    build_file_tree(tmp_path, {"book/cadence.yaml": "ledger: people.csv\n",
                               "book/sub/deeper/.keep": ""})
    config = load_config(str(tmp_path / "book" / "sub" / "deeper"))
    assert config.root == str(tmp_path / "book")
    assert config.ledger == str(tmp_path / "book" / "people.csv")
    assert config.source == str(tmp_path / "book" / "cadence.yaml")


def test_load_config_without_a_file_uses_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("cadence.book.find_config", lambda start: None)
    config = load_config(str(tmp_path))
    assert config == default_config(str(tmp_path))


def test_load_config_reads_a_bom(tmp_path):
    (tmp_path / "cadence.yaml").write_bytes("\ufefftimezone: UTC\n".encode("utf-8"))
    assert load_config(str(tmp_path)).timezone == "UTC"


def test_load_config_raises_the_problems(tmp_path):
    build_file_tree(tmp_path, {"cadence.yaml": "colour: red\ntimezone: Nowhere\n"})
    with pytest.raises(Failure) as caught:
        load_config(str(tmp_path))
    assert caught.value.code == EXIT_CONFIG
    path = str(tmp_path / "cadence.yaml")
    assert [str(problem.source) for problem in caught.value.problems] == [
        f"{path}:1:1", f"{path}:2:11"]


def test_load_config_shows_paths_relative_to_the_current_folder(tmp_path, monkeypatch):
    from cadence.cli import relative

    build_file_tree(tmp_path, {"cadence.yaml": "colour: red\n", "sub/.keep": ""})
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(Failure) as caught:
        load_config(".")
    shown = relative(caught.value.problems[0]).source
    assert str(shown) == f"{tmp_path / 'cadence.yaml'}:1:1"  # above
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Failure) as caught:
        load_config("sub")
    assert str(relative(caught.value.problems[0]).source) == "cadence.yaml:1:1"


def test_load_config_not_utf8(tmp_path):
    (tmp_path / "cadence.yaml").write_bytes(b"timezone: UTC\nsender: {name: \xe9}\n")
    with pytest.raises(Failure) as caught:
        load_config(str(tmp_path))
    assert caught.value.code == EXIT_CONFIG
    assert str(caught.value) == (f"{tmp_path / 'cadence.yaml'}:2: the config is not UTF-8 text"
                                 "\n  hint: save it as UTF-8")


@pytest.mark.parametrize("error, code, message", [
    (PermissionError(13, "Permission denied"), EXIT_IO,
     "cannot read the config: Permission denied"),
    (FileNotFoundError(2, "No such file"), EXIT_MISSING,
     "cannot read the config: the file is gone"),
])
def test_load_config_read_errors(tmp_path, monkeypatch, error, code, message):
    build_file_tree(tmp_path, {"cadence.yaml": ""})
    path = str(tmp_path / "cadence.yaml")
    real_open = os.open

    def failing_open(file, *args, **kwargs):  # the config is opened by os.open (not waiting)
        if os.fspath(file) == path:
            raise error
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", failing_open)
    with pytest.raises(Failure) as caught:
        load_config(str(tmp_path))
    assert caught.value.code == code
    assert caught.value.problems[0].message == message


@pytest.mark.parametrize("text, read", [
    ("imap.example.com", ("imap.example.com", 0)),
    ("imap.example.com:993", ("imap.example.com", 993)),
    ("127.0.0.1:1143", ("127.0.0.1", 1143)),
    ("[::1]:993", ("::1", 993)),
    ("::1", ("::1", 0)),
    # refused (mail.imap must be a host or host:port): a port alone, two ports, no host
    ("993", ("", None)),
    ("imap.example.com:41993:99999", ("", None)),
    ("imap example.com", ("", None)),
    ("imap.example.com:99999", ("imap.example.com", None)),
])
def test_mail_imap_is_a_host_and_a_port(text, read):
    from cadence.mailconfig import _host_port

    assert _host_port(text) == read
