"""Mail addresses and Message-IDs as cadence compares them (SPEC section 10)."""
from __future__ import annotations


def address_key(address: str) -> str:
    """An address as `sync` compares them: case-insensitive, the domain in IDNA form
    (`müller-bau.example` and `xn--mller-bau-r9a.example` are one)."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return address.strip().lower()
    domain = domain.strip().rstrip(".").lower()
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return f"{local.lower()}@{domain}"


def key_of(message_id: str) -> str:
    """The part of a Message-ID before the `@`, lowercased: cadence knows its own ids by it
    (SPEC 10), so that a changed `sender.email` keeps old threads."""
    return message_id.strip().strip("<>").rpartition("@")[0].lower()
