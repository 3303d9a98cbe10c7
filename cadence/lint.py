"""Lints: a valid playbook that goes against the practice the seeds describe, said with why.

Pure: playbooks and contacts in, warnings out. A playbook silences a lint on purpose with
`ignore: [name]` (a ladder is not a decision window).
"""
from __future__ import annotations

from datetime import date, timedelta

from .model import EXIT_CONFIG, Problem

DECISION_WINDOW = 30
MIN_TOUCHES = 7
FRESH_DAYS = 90
REF = date(2001, 1, 1)  # any date: durations are compared by applying them to it

LINTS = (
    "few-touches", "repeated-template", "rare-touches", "no-reply-rule", "no-cap",
    "no-reply-without-in", "unreachable-channel", "stranded-contact", "pause-ahead",
    "reply-ahead", "step-past-until", "renumbered-step", "callback-passed", "optout-kept",
    "no-holidays", "ladder-order", "same-email", "touch-ahead", "ids-by-row-order",
)
SPAN = 4 * 366  # four years of starts: every month of every kind of year, a leap February too


def warning(lint: str, source, message: str, hint: str) -> Problem:
    return Problem(source, f"{message} [{lint}]", hint, EXIT_CONFIG, warning=True)


def schedule(playbook, days: int) -> list:
    """(day, step id, template, channel) of the touches in the first `days` days, each on its
    nominal day (no limits, no calendar): the playbook as its author meant it."""
    out = []
    prev = REF
    for pi, phase in enumerate(playbook.phases):
        end = phase.until.add(REF) if phase.until is not None else None
        floor = playbook.phases[pi - 1].until.add(REF) if pi else None
        if not phase.periodic:
            for step in phase.steps:
                day = step.at.add(REF) if step.at is not None else step.after.add(prev)
                day = max(day, floor) if floor else day
                out.append(((day - REF).days, step.id, step.template, step.channel))
                prev = day
            continue
        n = 0
        while True:
            day = phase.every.add(prev)
            day = max(day, floor) if floor else day
            if (end is not None and day > end) or (day - REF).days > days:
                break
            n += 1
            out.append(((day - REF).days, f"{phase.name}-{n}",
                        phase.templates[(n - 1) % len(phase.templates)], phase.channel))
            prev = day
        if end is None or (end - REF).days > days:
            break
    return [t for t in out if t[0] <= days]


def lint_playbook(playbook, contacts=(), day: date = REF) -> list:
    """Warnings for one playbook, and for the contacts of the ledger that follow it; `day`
    (today) is where examples of a calendar's effect start."""
    found = []

    def warn(lint, source, message, hint):
        if lint not in playbook.ignore:
            found.append(warning(lint, source, message, hint))

    first = schedule(playbook, DECISION_WINDOW)
    if len(first) < MIN_TOUCHES:
        warn("few-touches", playbook.source,
             f"{len(first)} touch{'es' if len(first) != 1 else ''} in the first "
             f"{DECISION_WINDOW} days", f"the decision window needs at least {MIN_TOUCHES} "
             "touches, each bringing something new: most buyers decide in days 21-30")
    seen, reported = {}, set()
    for _, step, template, _ in schedule(playbook, FRESH_DAYS):
        if template in seen and template not in reported:
            reported.add(template)
            warn("repeated-template", playbook.source,
                 f"template {template!r} is used by {seen[template]} and again by {step} "
                 f"within the first {FRESH_DAYS} days",
                 "every touch of the first 90 days should bring something new")
        seen.setdefault(template, step)
    for phase in playbook.phases:
        if phase.periodic and phase.every.add(REF) > REF + timedelta(days=31):
            warn("rare-touches", phase.source,
                 f"phase {phase.name!r} touches only every {phase.every}",
                 "touch at least every 20-30 days: each month without a touch costs about a "
                 "tenth of a base's value")
    if not playbook.on_reply.source.path:
        warn("no-reply-rule", playbook.source,
             "no `reply` rule: a reply stops the contact (the default)",
             "say what a reply does: `reply: stop`, `continue`, `pause 14 days` or "
             "`move <playbook>`")
    if not playbook.limits.per_week:
        warn("no-cap", playbook.source, "no `per_week` cap",
             "cap the touches of any 7 days (e.g. `limits: {per_week: 3}`), or the routine "
             "becomes spam")
    for phase in playbook.phases:
        for step in phase.steps:
            start = _past_until(step.at, phase.until, day)
            if start is not None:
                warn("step-past-until", step.source,
                     f"step {step.id!r} at {step.at} falls after its phase's until "
                     f"({phase.until}) for some starts: for a contact started on {start} it "
                     f"falls on {step.at.add(start)}, after the phase ends on "
                     f"{phase.until.add(start)}, and is skipped",
                     "count both in the same unit (days, or months), or leave a margin: a "
                     "month is 28 to 31 days")
    periodic = {p.channel for p in playbook.phases if p.periodic}
    for rule in playbook.no_reply:
        hit = periodic if not rule.after else periodic & set(rule.after)
        if not rule.phases and hit:
            warn("no-reply-without-in", rule.source,
                 f"a `no_reply` rule without `in` answers every periodic "
                 f"{', '.join(sorted(hit))} too", "limit it to the first phases with "
                 "`in: [...]`, so that a weekly newsletter does not set off a call every week")
    for earlier, later, channel in _out_of_order(playbook.no_reply):
        rule = playbook.no_reply[earlier]
        warn("ladder-order", rule.source,
             f"no_reply rule {earlier + 1} (after {', '.join(rule.after) or 'any channel'}) "
             f"comes before rule {later + 1}, which makes a touch by {channel}: a touch a rule "
             f"made is answered only by the rules after it, so rule {earlier + 1} never "
             "answers it",
             "write the rules in the order the ladder climbs (after the email, the call; after "
             "the call, the letter)")
    calendar = playbook.calendar
    if calendar.business_days and calendar.country and calendar.country_days is not None:
        years = (day.year, day.year + 1)
        if not any(_holidays_in(calendar.country_days, year) for year in years) and \
                not any(d.year in years for d in calendar.holidays):
            warn("no-holidays", calendar.source,
                 f"no public holiday of {calendar.country} is known for {years[0]} or "
                 f"{years[1]} (the holidays package lists none): every weekday counts as a "
                 "working day",
                 "list the days you do not work under `holidays:` in `calendar`")
    for channel, source in _unreachable(playbook, contacts):
        warn("unreachable-channel", source,
             f"no contact following {playbook.name!r} can be reached by {channel}",
             "their touches fall back to another channel or are skipped; check the ledger's "
             "addresses and opt-outs")
    return found


def _out_of_order(rules) -> list:
    """(earlier rule, later rule, channel) where the earlier rule's `after` holds the channel
    the later one makes, in a phase both may act in: a rung the ladder, as written, never
    climbs (README "Semantics", "The ladder")."""
    found = []
    for later, rule in enumerate(rules):
        for earlier in range(later):
            other = rules[earlier]
            shared = not other.phases or not rule.phases or set(other.phases) & set(rule.phases)
            # a pair that answers each other (a missed call gets an email, an unanswered email
            # a call) warns in no order: it is meant to stop after one turn each
            mutual = not rule.after or other.then in rule.after
            if shared and (not other.after or rule.then in other.after) and not mutual:
                found.append((earlier, later, rule.then))
                break
    return found


def _holidays_in(days, year: int) -> bool:
    """Does a country's calendar (the `holidays` package's, which fills a year when one of
    its dates is first looked up) hold a holiday in `year`?"""
    date(year, 1, 1) in days  # noqa: B015 -- the lookup fills the year
    return any(d.year == year for d in days)


def _past_until(at, until, first: date):
    """The first start from `first` on for which a step `at` lands after its phase's `until`,
    or None. The parser compares them from one day; days against months differ by the month
    (`at: 30 days` and `until: 1 month` hold in January, not in February)."""
    if at is None or until is None or (at.months == 0) == (until.months == 0):
        return None  # one unit: the order is the same from every start
    for offset in range(SPAN):
        start = first + timedelta(days=offset)
        if at.add(start) > until.add(start):
            return start
    return None


def _unreachable(playbook, contacts) -> list:
    """(channel, source) of the playbook's step channels that none of its contacts can take."""
    followers = [c for c in contacts
                 if c.playbook == playbook.name and c.status in ("active", "paused")]
    if not followers:
        return []
    used = {}
    for phase in playbook.phases:
        for step in phase.steps:
            used.setdefault(step.channel, step.source)
        if phase.periodic:
            used.setdefault(phase.channel, phase.source)
    return [(channel, source) for channel, source in used.items()
            if not any(_takes(c, channel) for c in followers)]


def _takes(contact, channel: str) -> bool:
    return (contact.reachable(channel) and channel not in contact.optout
            and "all" not in contact.optout
            and (not contact.channels or channel in contact.channels))
