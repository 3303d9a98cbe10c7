"""Throwaway X.509 material for the mail tests, made with the ``openssl`` command line tool.

Nothing here is committed or reused between runs: each test session makes a fresh CA and fresh
certificates in a temporary folder (EC P-256 keys, valid for two days, strict enough for Python's
``ssl.create_default_context()``, including the stricter X.509 checks of newer Pythons).

    ca = make_ca(folder)                                    # Pair(cert=.../ca.pem, key=.../ca.key)
    leaf = make_cert(folder, "server", ca, ["localhost", "127.0.0.1"])
    rogue = make_self_signed(folder, "rogue", ["localhost", "127.0.0.1"])   # verifies against nothing

``server.py`` uses these for Dovecot; ``faults.py`` for the endpoints whose certificate must be
refused.  A test that needs a client context trusting the throwaway CA calls
``ssl.create_default_context(cafile=str(ca.cert))`` (or ``MailServer.ssl_context()``).
"""
from __future__ import annotations

import ipaddress
import itertools
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple, Sequence

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
DAYS = "2"
_SERIALS = itertools.count(2)  # unique within the one CA of a session


class Pair(NamedTuple):
    """A certificate and its private key, both PEM files."""
    cert: Path
    key: Path


def _san(hosts: Sequence[str]) -> str:
    names = []
    for host in hosts:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            names.append(f"DNS:{host}")
        else:
            names.append(f"IP:{host}")
    return ",".join(names)


def _run(args: Sequence[str], cwd: Path) -> None:
    done = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")


def _config(folder: Path, name: str, cn: str, extensions: str) -> Path:
    # An explicit config, so that the machine's openssl.cnf adds no extension of its own.
    path = folder / f"{name}.cnf"
    path.write_text(
        "[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n"
        f"[dn]\nO = cadence tests\nCN = {cn}\n[ext]\n{extensions}\n", encoding="ascii")
    return path


def _key(folder: Path, name: str) -> Path:
    key = folder / f"{name}.key"
    _run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)],
         folder)
    return key


def make_ca(folder: Path, name: str = "ca") -> Pair:
    """A self-signed certificate authority."""
    folder = Path(folder)
    key = _key(folder, name)
    cnf = _config(folder, name, "cadence throwaway test CA",
                  "basicConstraints = critical, CA:TRUE\n"
                  "keyUsage = critical, keyCertSign, cRLSign\n"
                  "subjectKeyIdentifier = hash\n"
                  "authorityKeyIdentifier = keyid:always")
    cert = folder / f"{name}.pem"
    _run(["req", "-new", "-x509", "-config", str(cnf), "-key", str(key), "-days", DAYS,
          "-sha256", "-out", str(cert)], folder)
    return Pair(cert, key)


_LEAF = ("basicConstraints = critical, CA:FALSE\n"
         "keyUsage = critical, digitalSignature, keyEncipherment\n"
         "extendedKeyUsage = serverAuth\n"
         "subjectKeyIdentifier = hash\n"
         "authorityKeyIdentifier = keyid:always\n"
         "subjectAltName = {san}")


def make_cert(folder: Path, name: str, ca: Pair, hosts: Sequence[str]) -> Pair:
    """A server certificate for ``hosts`` (DNS names and IP addresses) signed by ``ca``."""
    folder = Path(folder)
    key = _key(folder, name)
    cnf = _config(folder, name, hosts[0], _LEAF.format(san=_san(hosts)))
    csr = folder / f"{name}.csr"
    cert = folder / f"{name}.pem"
    _run(["req", "-new", "-config", str(cnf), "-key", str(key), "-out", str(csr)], folder)
    _run(["x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key),
          "-set_serial", str(next(_SERIALS)), "-days", DAYS,
          "-sha256", "-extfile", str(cnf), "-extensions", "ext", "-out", str(cert)], folder)
    return Pair(cert, key)


def make_self_signed(folder: Path, name: str, hosts: Sequence[str]) -> Pair:
    """A certificate for ``hosts`` that signs itself: right names, but no CA vouches for it."""
    folder = Path(folder)
    key = _key(folder, name)
    cnf = _config(folder, name, hosts[0], _LEAF.format(san=_san(hosts)))
    cert = folder / f"{name}.pem"
    _run(["req", "-new", "-x509", "-config", str(cnf), "-key", str(key), "-days", DAYS,
          "-sha256", "-out", str(cert)], folder)
    return Pair(cert, key)
