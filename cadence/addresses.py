"""Mail addresses and Message-IDs as cadence compares them (SPEC section 10)."""
from __future__ import annotations


def address_key(address: str) -> str:
    """An address as `sync` compares them: case-insensitive, the domain in IDNA form
    (`müller-bau.example` and `xn--mller-bau-q9a.example` are one)."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return address.strip().lower()
    domain = domain.strip().rstrip(".").lower()
    try:
        domain = idna_domain(domain)
    except UnicodeError:
        pass
    return f"{local.lower()}@{domain}"


def idna_domain(domain: str) -> str:
    """A domain in its ASCII (`xn--`) form, by IDNA 2008 with the UTS 46 mapping, as mail
    systems and browsers read it (`straße.de` is `xn--strae-oqa.de`; Python's own `idna`
    codec is IDNA 2003, which makes it `strasse.de`, another domain). An ASCII domain is
    returned as it stands. Raises UnicodeError when the domain has no such form."""
    if domain.isascii():
        return domain
    import idna  # only for an international domain

    return idna.encode(domain, uts46=True).decode("ascii")


def key_of(message_id: str) -> str:
    """The part of a Message-ID before the `@`, lowercased: cadence knows its own ids by it
    (SPEC 10), so that a changed `sender.email` keeps old threads."""
    return message_id.strip().strip("<>").rpartition("@")[0].lower()
