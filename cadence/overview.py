"""A day's overview beside its drafts: `index.md` for people, `calls.ics` for their calendar.

Both are built from the journal's touch rows of the day (earlier runs' and this run's), so a
second run that day that drafts something new lists the morning's drafts too, and a run that
drafts nothing leaves both files alone. Every byte comes from the inputs and the day: UIDs and
DTSTAMP never read the clock.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from .labels import Words
from .lookup import draft_name
from .emails import fold, markdown_text

INDEX = "index.md"
CALENDAR = "calls.ics"
PRODID = "-//cadence//follow-up calls//EN"
CALL_MINUTES = 30  # the slot of a call-back agreed with a time
REMIND_MINUTES = 10

# Channels in the order a day is worked through: calls at their times first, paper last.
GROUPS = ("call", "sms", "messenger", "email", "letter")


@dataclass(frozen=True, slots=True)
class Item:
    """One touch of the day, as the overview shows it."""

    contact: str
    name: str
    channel: str
    step: str
    playbook: str
    template: str
    why: str  # the journal's note of the touch ("" for a step: labels.Words.why says it)
    time: str  # "HH:MM" of an agreed call-back, else ""
    reach: str  # the phone, email or address the channel uses
    file: str  # the draft's file name in the day's folder
    late: int = 0  # days after its due date (known for the touches of the run that made it)


def day_items(contacts, rows, day: date, late=None) -> list:
    """The day's touches made by `run` among journal `rows` (earlier runs' and this run's).

    Rows made by hand (`cadence log`) have no step and no draft, and rows of contacts no longer
    in the ledger are left out. `late` ({(contact, step): days}) says how late this run's
    touches are; the journal does not keep it for an earlier run's.
    """
    late = late or {}
    by_id = {c.id: c for c in contacts}
    items, seen = [], set()
    for row in rows:
        contact = by_id.get(row.contact)
        if row.event != "touch" or row.date != day or not row.step or contact is None:
            continue
        if (row.contact, row.step) in seen:
            continue
        seen.add((row.contact, row.step))
        items.append(Item(
            contact=row.contact, name=fold(contact.name) or row.contact, channel=row.channel,
            step=row.step, playbook=row.playbook, template=row.template,
            why=row.note,
            time=contact.callback_time if row.step == "callback" else "",
            reach=_reach(contact, row.channel),
            file=draft_name(row.contact, row.step, row.channel),
            late=late.get((row.contact, row.step), 0)))
    return sorted(items, key=_order)


def _reach(contact, channel: str) -> str:
    """Where the touch goes: the address on one line for a letter, else the email or phone."""
    if channel == "letter":
        return ", ".join(fold(line) for line in contact.row.get("address", "").splitlines() if line.strip())
    return fold(contact.row.get("email" if channel == "email" else "phone", ""))


def _order(item: Item) -> tuple:
    rank = GROUPS.index(item.channel) if item.channel in GROUPS else len(GROUPS)
    return rank, item.time or "~", item.contact, item.step


def index_md(day: date, items, words: Words = Words()) -> bytes:
    """The day's drafts, grouped by channel, each linked; calls first, at their times."""
    counts = []
    lines = [f"# {words.say('drafts_for', day=day.isoformat())}", ""]
    body = []
    for channel in GROUPS + tuple(_others(items)):
        group = [i for i in items if i.channel == channel]
        if not group:
            continue
        forms = words["counts"].get(channel)
        counts.append(words.count(forms, len(group)) if forms else f"{len(group)} {channel}")
        title = words["groups"].get(channel, channel.capitalize())
        body += [f"## {title} ({len(group)})", ""]
        for item in group:
            when = f"{item.time} · " if item.time else \
                (f"{words['any_time']} · " if channel == "call" else "")
            reach = f" · {markdown_text(item.reach)}" if item.reach else ""
            late = f" · {words.late(item.late)}" if item.late else ""
            why = words.why(item.why, item.step, item.playbook)
            body.append(f"- {when}[{markdown_text(item.name)}]({item.file}){reach} · "
                        f"{markdown_text(why)}{late} · `{item.template}`")
        body.append("")
    summary = words.count(words["touches"], len(items)) + ": " + ", ".join(counts) + "."
    if any(i.channel == "call" for i in items):
        summary += " " + words.say("calendar_hint", file=CALENDAR)
    lines += [summary, ""] + body
    return ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")


def _others(items) -> list:
    return sorted({i.channel for i in items} - set(GROUPS))


def calls_ics(day: date, items, zone, tzid: str, domain: str, words: Words = Words()):
    """An iCalendar file with one event a call (icalendar writes it), or None when the day has
    no call.

    A call-back agreed with a time is a 30-minute event at that time (in the book's timezone,
    with its VTIMEZONE; UTC without one), with a reminder 10 minutes before; any other call is
    an all-day event that does not block the day. UIDs and DTSTAMP come from the inputs.
    """
    calls = [i for i in items if i.channel == "call"]
    if not calls:
        return None
    from icalendar import Alarm, Calendar, Event, Timezone

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", words.say("calendar", day=day.isoformat()))
    if tzid and any(i.time for i in calls):
        calendar.add_component(Timezone.from_tzinfo(
            zone, tzid=tzid, first_date=date(day.year, 1, 1), last_date=date(day.year + 1, 1, 1)))
    stamp = datetime.combine(day, time(9, 0), tzinfo=zone).astimezone(timezone.utc)
    for item in calls:
        event = Event()
        summary = words.say("call_event", name=item.name)
        if item.reach:
            summary += f" ({item.reach})"
        event.add("uid", _uid(item, day, domain))
        event.add("dtstamp", stamp)
        event.add("summary", summary)
        event.add("description", words.why(item.why, item.step, item.playbook) + "\n"
                  + words.say("sheet_file", file=item.file))
        if item.time:
            start = datetime.combine(day, time.fromisoformat(item.time), tzinfo=zone)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(minutes=CALL_MINUTES))
            event.add("transp", "OPAQUE")
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", summary)
            alarm.add("trigger", timedelta(minutes=-REMIND_MINUTES))
            event.add_component(alarm)
        else:
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


def _uid(item: Item, day: date, domain: str) -> str:
    seed = "\x1f".join((item.contact, item.step, day.isoformat()))
    return f"{hashlib.sha256(seed.encode('utf-8')).hexdigest()[:32]}@{domain}"
