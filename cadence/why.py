"""Why a contact has no touch planned, in words (`plan`, `render`, `skip`): its status and the
day the journal set it, an opt-out, a pause, a reply not yet acted on, a playbook with nothing
left, no channel that reaches it. The book in, a sentence out; it asks `actions` for the next
touch, as the commands do, so it sits at the edge beside it."""
from __future__ import annotations


def nothing_planned(book, contact, day) -> str:
    """Why a contact has nothing planned (in the days `plan` shows, or at all), in words: its
    status (with the day the journal set it), an opt-out, a pause, a playbook with nothing
    left; and the next touch after those days, if any."""
    from . import engine
    from .actions import planned

    if not contact.playbook:
        return "not enrolled (no playbook)"
    trail = book.trails.get(contact.id)
    st = engine.state_of(contact, trail, book.playbooks)
    reason = ""
    if st.status in ("replied", "won", "lost", "unsubscribed", "stopped"):
        on = status_since(trail, st.status, contact.playbook)
        reason = f"{st.status} on {on}" if on else f"status {st.status}"
    elif "all" in contact.optout:
        reason = "opted out of everything"
    elif st.status == "paused" and st.paused_until is None:
        reason = "paused with no end date (an empty paused_until)"
    elif st.status == "paused" and st.paused_until > day:
        reason = f"paused until {st.paused_until}"
    later = planned(book, contact, day)
    if later is not None:
        return "; ".join(filter(None, (reason, f"the next touch is on {later.due} "
                                               f"({later.step})")))
    if reason:
        return reason
    far = engine.upcoming(st, book.playbooks, day, book.condition)
    if far is not None and far > day:  # past the days a plan looks at (`every: 5 years`)
        from .actions import HORIZON

        return f"the next touch is on {far}, more than {HORIZON} days ahead"
    from .steps import allowed

    playbook = book.playbooks.get(contact.playbook)
    left = f"the playbook {contact.playbook} has nothing left for it" + (
        f" (last step {st.last_step})" if st.last_step else "")
    if playbook is not None and not any(allowed(c, st.contact, playbook)
                                        for c in playbook.channels):
        left = (f"no channel of the playbook ({', '.join(playbook.channels)}) reaches them: "
                "check the ledger's email, phone, address, channels and optout")
    if st.last_reply is not None and (st.last_touch is None or st.last_reply >= st.last_touch):
        said = (f"replied on {st.last_reply} (the ledger's last_reply); the next run acts on it "
                "by the playbook's reply rule")
        rule = playbook.on_reply if playbook is not None else None
        if rule is None:
            return said
        if rule.action == "stop":
            return f"{said} (reply: stop)"
        if rule.action == "move":
            return f"{said} (reply: move {rule.playbook})"
        # continue or pause: the contact goes on in this playbook, which has no touch left
        what = f"pause {rule.duration.text}" if rule.action == "pause" else "continue"
        return f"{said} (reply: {what}), after which {left}"
    return left


def status_since(trail, status: str, playbook: str):
    """The date of the journal row that set the status, when the journal has it."""
    if trail is None:
        return None
    from .state import journal_status

    rows = [r for r in (trail.status, trail.reply) if r is not None]
    if not rows or journal_status(trail, playbook)[0] != status:
        return None
    return max(r.date for r in rows)
