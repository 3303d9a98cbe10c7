"""Which `no_reply` rule made a journal touch (SPEC 5.2: a ladder climbs, it does not loop).

A journal row names its template, channel and note, not its rule: the rule is read from them,
and the note says what the row alone would leave in doubt (README "Semantics", "The ladder").
Pure: text in, an index out.
"""
from __future__ import annotations

import re
from datetime import date

from .model import Entry

_ANSWERED = re.compile(r"^no reply since \d{4}-\d\d-\d\d \((\w+)\)")
# the end of a `no_reply` touch's note when its rule's channel could not be used
FELL_BACK = re.compile(r"by (\w+) instead of (\w+)")
# the end of a `no_reply` touch's note that names its rule (1 for the playbook's first
# `no_reply` rule), written when the rest of the row leaves it in doubt
RULE_NAMED = re.compile(r"no_reply rule (\d{1,4})")
_NUMBERED = re.compile(r"; " + RULE_NAMED.pattern + "$")


def named(note: str, template: str, channel: str, rule: int, rules: tuple) -> str:
    """The journal note of a touch that `rules[rule]` made by `channel`: `note`, ending with
    the rule's number where the rest of the row would leave it in doubt (`rule_of`). Only the
    journal's: what people read (call sheets, the day's index, `due`, `plan`) is `note`."""
    row = Entry(date.min, "", "touch", "", "no_reply", channel, template, note)
    return f"{note}; no_reply rule {rule + 1}" if len(rules) > 1 and \
        rule_of(row, rules) != rule else note


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
    miss says so in its note (`; no_reply rule 2`, see `named`), which is believed while that
    rule could have made the row. None: len(rules)."""
    note = row.note
    numbered = _NUMBERED.search(note)
    if numbered is not None:
        note = note[:numbered.start()]
    found = _ANSWERED.match(note)
    answered = found.group(1) if found else (
        "email" if note.startswith("the email of ") else "")
    last = note.rpartition("; ")[2] if answered else ""
    instead = FELL_BACK.fullmatch(last)
    meant = instead.group(2) if instead else row.channel
    if numbered is not None and answered:
        # the rule the note names, if it still is one that could have made the row: a rule
        # added or removed before it since shifts the numbers, and a doubt ends the ladder
        rule = int(numbered.group(1)) - 1
        if rule < len(rules) and rules[rule].template == row.template and \
                rules[rule].then == meant and (not rules[rule].after
                                               or answered in rules[rule].after):
            return rule
    matches = [i for i, r in enumerate(rules) if r.template == row.template]
    if len(matches) == 1:
        return matches[0]
    matches = matches or [i for i, r in enumerate(rules) if r.then == meant]
    if len(matches) > 1 and answered:
        matches = [i for i in matches if not rules[i].after or answered in rules[i].after] \
            or matches
        matches = [i for i in matches if rules[i].then == meant] or matches
    return max(matches) if matches else len(rules)
