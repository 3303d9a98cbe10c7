"""`check`'s warnings about a book's playbooks and contacts: what is valid but probably not
meant (README "What check finds", the lint table). Pure: the loaded book in, warnings out.
"""
from __future__ import annotations

from datetime import date

from .engine import state_of, void_callback
from .lint import lint_playbook, warning
from .model import Book, id_key, optout_lost
from .steps import is_stranded, renumbered


def book_warnings(book: Book, ledger, day: date) -> list:
    """The lints of every playbook, then of each contact, at its ledger cell."""
    warnings = []
    for playbook in book.playbooks.values():
        warnings.extend(lint_playbook(playbook, book.contacts, day))
    for index, contact in enumerate(book.contacts):
        playbook = book.playbooks.get(contact.playbook)
        if playbook is not None and "stranded-contact" not in playbook.ignore \
                and is_stranded(contact, playbook):
            warnings.append(warning(
                "stranded-contact", ledger.source(index, "last_step"),
                f"contact {contact.id!r}: last_step {contact.last_step!r} is not in playbook "
                f"{playbook.name!r}", "cadence reads it as the last step dated on or before "
                "last_touch; set last_step to a step of the playbook"))
        trail = book.trails.get(contact.id)
        renamed = renumbered(playbook, contact, trail.step if trail is not None else None) \
            if playbook is not None and "renumbered-step" not in playbook.ignore else ()
        if renamed:
            warnings.append(warning(
                "renumbered-step", ledger.source(index, "last_step"),
                f"contact {contact.id!r}: step {contact.last_step!r} was made with template "
                f"{renamed[0]!r}, but playbook {playbook.name!r} now gives that id to the step "
                f"with template {renamed[1]!r}: an edit moved the steps, so the contact may get "
                "one again or miss one", "give each step an `id:`, which an edit keeps, and set "
                "last_step to the id of the step the contact got last"))
        if playbook is not None and "pause-ahead" not in playbook.ignore and \
                contact.row.get("status", "").strip() and contact.status == "active" and \
                contact.paused_until is not None and contact.paused_until > day:
            # SPEC 5 moves every touch but an agreed call-back to paused_until: a pause
            # ended by typing `active` still holds the contact back until that day
            warnings.append(warning(
                "pause-ahead", ledger.source(index, "paused_until"),
                f"contact {contact.id!r}: status active, but paused_until "
                f"{contact.paused_until} is still ahead: its touches wait until then (but "
                "for an agreed call-back)",
                f"to end the pause now, clear paused_until (or run `cadence mark {contact.id} "
                "active`)"))
        st = state_of(contact, trail, book.playbooks) if contact.callback else None
        if playbook is not None and "callback-passed" not in playbook.ignore and \
                st is not None and void_callback(st, day):
            warnings.append(warning(
                "callback-passed", ledger.source(index, "callback"),
                f"contact {contact.id!r}: call-back agreed for {contact.callback}, but the "
                f"latest touch ({st.last_touch}) is not before that day: the call is never "
                "made", f"make the call and log it (`cadence log {contact.id} --channel "
                "call`), or agree a later day in the callback cell"))
        if playbook is not None and "reply-ahead" not in playbook.ignore and \
                contact.last_reply is not None and contact.last_reply > day:
            # SPEC 5 acts on a reply on or after last_touch: one typed ahead stops the
            # follow-up now, and its journal row keeps the date ahead
            warnings.append(warning(
                "reply-ahead", ledger.source(index, "last_reply"),
                f"contact {contact.id!r}: last_reply {contact.last_reply} is after today "
                f"({day}): cadence takes it as a reply already received, and the journal keeps "
                "its date", "if the date is a typo, correct it before the next run"))
        if playbook is not None and "touch-ahead" not in playbook.ignore and \
                contact.last_touch is not None and contact.last_touch > day and \
                (trail is None or trail.last is None or trail.last.date != contact.last_touch):
            # (a journal row dated ahead is said once for the journal: check._future_warnings)
            warnings.append(warning(
                "touch-ahead", ledger.source(index, "last_touch"),
                f"contact {contact.id!r}: last_touch {contact.last_touch} is after today "
                f"({day}): every step waits for a touch after it", "if the date is a typo, "
                "correct it; cadence counts the steps from the latest touch"))
        lost = optout_lost(contact, trail)
        if lost and (playbook is None or "optout-kept" not in playbook.ignore):
            warnings.append(warning(
                "optout-kept", ledger.source(index, "optout"),
                f"contact {contact.id!r}: the journal says it opted out of {', '.join(lost)} "
                "(`cadence optout`), which its optout cell lacks: cadence keeps the opt-out",
                "a sheet downloaded again loses the cell, never the journal's word (a run "
                "writes the cell back for a contact that follows a playbook, where the sheet "
                "has an optout column). If the contact asked to hear from you again: "
                f"`cadence optout {contact.id} {' '.join(lost)} --withdraw`"))
    return warnings + _same_email(book, ledger) + _ids_by_row_order(book, ledger)


def _same_email(book: Book, ledger) -> list:
    """A second row that follows a playbook with the email of an earlier one: one person
    entered twice (a sheet merged from two, an `add` typed again) gets every touch twice."""
    warnings, first = [], {}
    for index, contact in enumerate(book.contacts):
        address = contact.row.get("email", "").strip().lower()
        playbook = book.playbooks.get(contact.playbook)
        if not address or playbook is None or "same-email" in playbook.ignore:
            continue
        if address not in first:
            first[address] = contact.id
            continue
        warnings.append(warning(
            "same-email", ledger.source(index, "email"),
            f"contacts {first[address]!r} and {contact.id!r} have the same email "
            f"{contact.row['email'].strip()!r}: one person would get each touch twice",
            "delete one of the rows, or give each its own address if they are two people"))
    return warnings


def _ids_by_row_order(book: Book, ledger) -> list:
    """Rows of one name whose ids are made in the order of the rows (`olena`, `olena-2`), one
    with a history in the journal: a download sorted another way gives each the other's."""
    warnings, by_id = [], {c.id: c for c in book.contacts}
    for rows in ledger.made_alike():
        made = [ledger.made_ids[index] for index in rows]
        playbook = book.playbooks.get(by_id[made[0]].playbook) if made[0] in by_id else None
        if not any(m in book.trails for m in made) or \
                (playbook is not None and "ids-by-row-order" in playbook.ignore):
            continue
        warnings.append(warning(
            "ids-by-row-order", ledger.source(rows[0], "name"),
            "rows " + ", ".join(map(repr, made)) + " get their ids from one name, in the order "
            "of the rows, and the journal holds their history: a sheet sorted another way "
            "would give each the other's history",
            "keep the `id` column the first run wrote in the sheet you download (or give these "
            "rows ids of their own)"))
    return warnings


def ledger_news(book: Book, made_ids) -> tuple:
    """What `check` says beside its warnings, as no fault: (how many rows lost their state
    cells, which the next run gives back from the journal (SPEC section 9); the ids the
    journal holds and the ledger does not, a row deleted or lost in a fresh download; the pairs
    (journal's id, row's id) that are likely one person: the same id in another Unicode form,
    or a row whose id was made from its name this time, that the journal has never seen, and
    that one of those ids of two words or more begins, or that begins one
    (`marta-lindqvist`, `marta-lindqvist-berg`): renamed in a sheet without its id column)."""
    restored = sum(1 for c in book.contacts if c.playbook in book.playbooks
                   and state_of(c, book.trails.get(c.id), book.playbooks).restored)
    gone = sorted(set(book.trails) - {c.id for c in book.contacts})
    by_key = {id_key(c.id): c.id for c in book.contacts}
    made = sorted(m for m in made_ids.values() if m not in book.trails)
    starts = {}  # each made id's beginnings of two words or more, and the id itself
    for one in made:
        for start in _beginnings(one):
            starts.setdefault(start, one)
    made = set(made)
    renamed, taken = [], set()
    for old in gone:
        new = by_key.get(id_key(old)) or starts.get(old) or next(
            (start for start in _beginnings(old) if start in made), None)
        if new is not None and new not in taken:
            renamed.append((old, new))
            taken.add(new)
    return restored, gone, renamed


def _beginnings(made: str) -> list:
    """`marta-lindqvist-berg` -> [marta-lindqvist, marta-lindqvist-berg]: the id and its
    beginnings of two words or more (one word, a first name, says too little)."""
    words = made.split("-")
    return ["-".join(words[:n]) for n in range(2, len(words) + 1)]
