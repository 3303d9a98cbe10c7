"""The IMAP password: from the environment, or from the command the `mail:` section names (like
mbsync's PassCmd). Never from cadence.yaml, never shown: not in a message, a repr or a traceback.

Running `password_command` is the one place where a book makes cadence run a program; only
`sync` and `push` do it, never `due`, `run` or `check` (README: "Against a hostile book").
"""
from __future__ import annotations

from typing import Callable

from .mailconfig import PASSWORD_VARIABLE, Mail
from .model import EXIT_CONFIG, Failure, Problem

PASSWORD_TIMEOUT = 60  # seconds the password command may take (it may ask for a passphrase)


class Secret:
    """A password that does not show itself: not in a repr, nor in a traceback's values."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__


def password(mail: Mail, environ: dict, run_command: Callable) -> Secret:
    """The IMAP password: the CADENCE_IMAP_PASSWORD variable, else what `password_command`
    prints (its first line); exit 78 with a hint when there is neither."""
    given = environ.get(PASSWORD_VARIABLE, "")
    if given:
        return Secret(given)
    if not mail.password_command:
        raise Failure(Problem(mail.source, "mail: no password for the IMAP server",
                              f"set `password_command` (such as `pass show mail/eva`) in the mail "
                              f"section, or the {PASSWORD_VARIABLE} environment variable",
                              EXIT_CONFIG))
    return Secret(run_command(mail))


def run_password_command(mail: Mail) -> str:
    """Run `password_command` (split like a shell's words, run without a shell) and take the
    first line it prints. Its output is never shown; its error output is, on failure."""
    import shlex
    import subprocess

    where = mail.at("password_command")
    try:
        argv = shlex.split(mail.password_command)
    except ValueError as err:
        raise Failure(Problem(where, f"mail.password_command cannot be split into words: "
                              f"{err}", "quote it as in a shell", EXIT_CONFIG)) from None
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=PASSWORD_TIMEOUT, check=False)
    except FileNotFoundError:
        raise Failure(Problem(where, f"mail.password_command: {argv[0]!r} not found",
                              "name a program on PATH, such as pass or secret-tool",
                              EXIT_CONFIG)) from None
    except subprocess.TimeoutExpired:
        raise Failure(Problem(where, f"mail.password_command did not finish in "
                              f"{PASSWORD_TIMEOUT} seconds", code=EXIT_CONFIG)) from None
    except OSError as err:
        raise Failure(Problem(where, f"mail.password_command: {err.strerror or err}",
                              code=EXIT_CONFIG)) from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise Failure(Problem(where, f"mail.password_command exited {done.returncode}"
                              + (f": {said[0][:200]}" if said else ""), code=EXIT_CONFIG))
    value = done.stdout.decode("utf-8", "replace").splitlines()
    if not value or not value[0]:
        raise Failure(Problem(where, "mail.password_command printed no password",
                              code=EXIT_CONFIG))
    return value[0]
