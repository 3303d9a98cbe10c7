"""Which `no_reply` rule made a journal touch (SPEC 5.2: a ladder climbs, it does not loop).

A journal row names its template, channel and note, not its rule: the rule is read from them,
and the note says what the row alone would leave in doubt (README "Semantics", "The ladder").
Pure: text in, an index out.
"""
from __future__ import annotations

import re

from .model import Entry

_ANSWERED = re.compile(r"^no reply since \d{4}-\d\d-\d\d \((\w+)\)")
# the end of a `no_reply` touch's note when its rule's channel could not be used
FELL_BACK = re.compile(r"by (\w+) instead of (\w+)")
# the end of a `no_reply` touch's note that names its rule (1 for the playbook's first
# `no_reply` rule), written when the rest of the row leaves it in doubt
RULE_NAMED = re.compile(r"no_reply rule (\d{1,4})")
_NUMBERED = re.compile(r"; " + RULE_NAMED.pattern + "$")


def numbered(note: str, rule: int) -> str:
    """`note` with the rule (an index) named at its end, for `rule_of` to read."""
    return f"{note}; no_reply rule {rule + 1}"


def fell_back(channel: str, meant: str) -> str:
    """What a rule's touch adds to its note when made by `channel` instead of `meant`."""
    return f"; by {channel} instead of {meant}"


def rule_of(row: Entry, rules: tuple) -> int:
    """The index of the `no_reply` rule that made the journal touch `row`: the rules with its
    template (else, for a template since renamed, those whose `then` is the channel it was
    meant for: the row's, or the one its note names, below). When
    several share it and the note is cadence's own, it says what the rule answered
    (`no reply since D (call)`; `the email of D bounced ...`): only a rule whose `after` holds
    that channel made it; and by which channel the rule meant to go: its own, the row's,
    unless the note ends `; by C instead of T` (a fallback: the rule's `then` is T). Of those
    left, the last: the rule that made it is among them, and a touch is answered only by a
    later rule, so a doubt ends the ladder rather than looping; a rule that this reading would
    miss says so in its note (`; no_reply rule 2`, see `numbered`). None: len(rules)."""
    note = row.note
    numbered = _NUMBERED.search(note)
    if numbered is not None and (note.startswith("no reply since ")
                                 or note.startswith("the email of ")):
        if 0 < int(numbered.group(1)) <= len(rules):
            return int(numbered.group(1)) - 1
        note = note[:numbered.start()]
    matches = [i for i, r in enumerate(rules) if r.template == row.template]
    if len(matches) == 1:
        return matches[0]
    found = _ANSWERED.match(note)
    answered = found.group(1) if found else (
        "email" if note.startswith("the email of ") else "")
    last = note.rpartition("; ")[2] if answered else ""
    instead = FELL_BACK.fullmatch(last)
    meant = instead.group(2) if instead else row.channel
    matches = matches or [i for i, r in enumerate(rules) if r.then == meant]
    if len(matches) > 1 and answered:
        matches = [i for i in matches if not rules[i].after or answered in rules[i].after] \
            or matches
        matches = [i for i in matches if rules[i].then == meant] or matches
    return max(matches) if matches else len(rules)
