"""Test harness for ``cadence sync`` and ``cadence push``: a real Dovecot IMAP server, servers
that misbehave, Maildir++ trees and realistic messages.  No mocks: the code under test talks
IMAP over verified TLS to Dovecot on 127.0.0.1, or reads real Maildir trees.

Use from a test module under ``tests/`` (``tests/conftest.py`` puts ``tests/`` on sys.path)::

    from mail.fixtures import *  # noqa: F401,F403  (pytest fixtures)
    from mail.messages import make, CADENCE_ID
    from mail.server import append, messages

Fixtures (``mail.fixtures``; tests inside ``tests/mail/`` get them from its conftest):

``mail_server`` (session)        the running Dovecot, a ``MailServer`` (``server.py``)
``mail_user`` (function)         a fresh ``MailUser`` with empty INBOX, Junk, Sent, Drafts,
                                 Archive and Trash (``server.py``)
``imap_proxy`` (function)        ``make(**options) -> Proxy``: a TLS proxy in front of Dovecot
                                 that cuts or stalls a connection and notes the commands
``refused_port`` (function)      an ``Endpoint`` whose port refuses connections
``silent_server`` (function)     an ``Endpoint`` that accepts and never answers
``untrusted_tls`` (session)      Dovecot behind a self-signed certificate, implicit TLS
``untrusted_starttls`` (session) the same over STARTTLS
``wrong_host_tls`` (session)     a certificate from the trusted CA for another host name
``maildir_tree`` (function)      an empty mbsync-style Maildir++ tree in ``tmp_path``
                                 (``maildir.py``)

``imap_proxy`` to ``wrong_host_tls`` are defined in ``faults.py``.

Helpers:

``server.py``    ``append(server, user, folder, data, flags=(), date=None) -> uid``,
                 ``messages(server, user, folder) -> [StoredMessage(uid, flags,
                 internaldate, data)]``, ``status(...)``, ``uidvalidity(...)``,
                 ``change_uidvalidity(server, user, folder) -> new uidvalidity``,
                 ``special_use(server, user) -> {"\\\\Junk": "Junk", ...}``,
                 ``empty_folders(server, user)``, ``dovecot_server()`` (context manager),
                 ``PASSWORD``, ``MailServer.ca_file``, ``MailServer.add_user()``
``faults.py``    ``WRONG_PASSWORD``, ``Proxy``, ``SilentServer``, ``refused_endpoint()``
``messages.py``  ``make(kind, **fields) -> bytes``, ``KINDS``, ``CADENCE_ID``, ``USER``,
                 ``CONTACT``, ``DATE``
``maildir.py``   ``make_maildir(root, folders=("Junk", "Sent", "Drafts"), style="mbsync")``,
                 ``MaildirTree.add(folder, data, flags="", subdir=None, mtime=None)``,
                 ``build_maildir(root, {folder: [data, (data, options)]})``
``tls.py``       ``make_ca``, ``make_cert``, ``make_self_signed`` (openssl CLI)

Requirements: the ``dovecot`` binary (Debian: ``apt-get install dovecot-imapd``; ``.ci/run``
installs it) and ``openssl``.  Without Dovecot the server fixtures fail with that hint; they never
skip.  Run as root (CI) the server's mail belongs to ``nobody`` and its processes to Dovecot's own
``dovecot``/``dovenull`` users; run as another user, everything runs as that user.
"""
