"""Every mail fixture in one import, for a test module under ``tests/``::

    from mail.fixtures import *  # noqa: F401,F403  (pytest fixtures)

Fixtures must be imported into the module that uses them (``tests/conftest.py`` does not load
them).  ``mail_server`` starts one Dovecot per test process however many modules import it.
See ``mail/__init__.py`` for the list.
"""
from .faults import (imap_proxy, refused_port, silent_server, untrusted_starttls,
                     untrusted_tls, wrong_host_tls)
from .maildir import maildir_tree
from .server import mail_server, mail_user

__all__ = ["mail_server", "mail_user", "imap_proxy", "refused_port", "silent_server",
           "untrusted_tls", "untrusted_starttls", "wrong_host_tls", "maildir_tree"]
