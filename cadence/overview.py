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

from .lookup import draft_name
from .emails import fold, markdown_text

INDEX = "index.md"
CALENDAR = "calls.ics"
PRODID = "-//cadence//follow-up calls//EN"
CALL_MINUTES = 30  # the slot of a call-back agreed with a time
REMIND_MINUTES = 10

# Channels in the order a day is worked through: calls at their times first, paper last.
GROUPS = (("call", "call", "Calls"), ("sms", "text message", "Text messages"),
          ("messenger", "messenger message", "Messenger messages"), ("email", "email", "Emails"),
          ("letter", "letter", "Letters"))


@dataclass(frozen=True, slots=True)
class Item:
    """One touch of the day, as the overview shows it."""

    contact: str
    name: str
    channel: str
    step: str
    playbook: str
    template: str
    why: str
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
            why=row.note or f"step {row.step} of {row.playbook}",
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
    rank = next((i for i, group in enumerate(GROUPS) if group[0] == item.channel), len(GROUPS))
    return rank, item.time or "~", item.contact, item.step


def index_md(day: date, items) -> bytes:
    """The day's drafts, grouped by channel, each linked; calls first, at their times."""
    counts = []
    lines = [f"# Drafts for {day.isoformat()}", ""]
    body = []
    for channel, one, title in GROUPS + tuple((c, c, c.capitalize()) for c in _others(items)):
        group = [i for i in items if i.channel == channel]
        if not group:
            continue
        counts.append(f"{len(group)} {one if len(group) == 1 else title.lower()}")
        body += [f"## {title} ({len(group)})", ""]
        for item in group:
            when = f"{item.time} · " if item.time else ("any time · " if channel == "call" else "")
            reach = f" · {markdown_text(item.reach)}" if item.reach else ""
            late = f" · {item.late} day{'s' if item.late != 1 else ''} late" if item.late else ""
            body.append(f"- {when}[{markdown_text(item.name)}]({item.file}){reach} · "
                        f"{markdown_text(item.why)}{late} · `{item.template}`")
        body.append("")
    total = len(items)
    summary = f"{total} touch{'es' if total != 1 else ''}: " + ", ".join(counts) + "."
    if any(i.channel == "call" for i in items):
        summary += f" The calls are in {CALENDAR}, to import into your calendar."
    lines += [summary, ""] + body
    return ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")


def _others(items) -> list:
    known = {group[0] for group in GROUPS}
    return sorted({i.channel for i in items} - known)


def calls_ics(day: date, items, zone, tzid: str, domain: str):
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
    calendar.add("x-wr-calname", f"Calls {day.isoformat()}")
    if tzid and any(i.time for i in calls):
        calendar.add_component(Timezone.from_tzinfo(
            zone, tzid=tzid, first_date=date(day.year, 1, 1), last_date=date(day.year + 1, 1, 1)))
    stamp = datetime.combine(day, time(9, 0), tzinfo=zone).astimezone(timezone.utc)
    for item in calls:
        event = Event()
        summary = f"Call {item.name}" + (f" ({item.reach})" if item.reach else "")
        event.add("uid", _uid(item, day, domain))
        event.add("dtstamp", stamp)
        event.add("summary", summary)
        event.add("description", f"{item.why}\nCall sheet: {item.file}")
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
