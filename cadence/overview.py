"""A day's overview beside its drafts: `index.md` for people, `calls.ics` for their calendar.

Both are built from the journal's touch rows of the day (earlier runs' and this run's), so a
second run that day that drafts something new lists the morning's drafts too, and a run that
drafts nothing leaves both files alone. Every byte comes from the inputs and the day: UIDs and
DTSTAMP never read the clock.
"""
from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time, timedelta

from .records import frozen
from .render import draft_name, fold

INDEX = "index.md"
CALENDAR = "calls.ics"
PRODID = "-//cadence//follow-up calls//EN"
CALL_MINUTES = 30  # the slot of a call-back agreed with a time
REMIND_MINUTES = 10

# Channels in the order a day is worked through: calls at their times first, paper last.
GROUPS = (("call", "call", "Calls"), ("sms", "text message", "Text messages"),
          ("messenger", "messenger message", "Messenger messages"), ("email", "email", "Emails"),
          ("letter", "letter", "Letters"))


@frozen
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


def day_items(contacts, history, entries, day: date) -> list:
    """The day's touches made by `run`: earlier runs' journal rows, then this run's entries.

    Rows made by hand (`cadence log`) have no step and no draft, and rows of contacts no longer
    in the ledger are left out.
    """
    by_id = {c.id: c for c in contacts}
    rows = [e for rows in history.values() for e in rows] + list(entries)
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
            file=draft_name(row.contact, row.step, row.channel)))
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
            reach = f" · {_escape(item.reach)}" if item.reach else ""
            body.append(f"- {when}[{_escape(item.name)}]({item.file}){reach} · "
                        f"{_escape(item.why)} · `{item.template}`")
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


_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|])")


def _escape(text: str) -> str:
    """Ledger data shown as text, never as Markdown."""
    return _MARKDOWN.sub(r"\\\1", fold(text))


def calls_ics(day: date, items, zone, tzid: str, domain: str):
    """An iCalendar file with one event a call, or None when the day has no call.

    A call-back agreed with a time is a 30-minute event at that time (in the book's timezone,
    with its VTIMEZONE; UTC without one), with a reminder 10 minutes before; any other call is
    an all-day event that does not block the day.

    The events are written here, line by line, as icalendar writes them (property order, TEXT
    escaping, folding; tests/test_calendar.py holds the two byte-identical): building a
    thousand `Event`s through the library took half a second. The VTIMEZONE, which needs the
    zone's transitions, still comes from icalendar.
    """
    calls = [i for i in items if i.channel == "call"]
    if not calls:
        return None
    timed = any(i.time for i in calls)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:" + _text(PRODID), "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:" + _text(f"Calls {day.isoformat()}")]
    zoned, vtimezone = None, ""
    if tzid and timed:
        from icalendar import Timezone, vDDDTypes

        vtimezone = Timezone.from_tzinfo(  # folded already, each line ending in CRLF
            zone, tzid=tzid, first_date=date(day.year, 1, 1),
            last_date=date(day.year + 1, 1, 1)).to_ical().decode("utf-8")
        zoned = vDDDTypes  # the library says whether the zone is UTC (then `Z`, no TZID)
    stamp = _utc_text(datetime.combine(day, time(9, 0), tzinfo=zone).astimezone(_utc()))
    head, lines = lines, []
    start_day = "DTSTART;VALUE=DATE:" + _day_text(day)
    end_day = "DTEND;VALUE=DATE:" + _day_text(day + timedelta(days=1))
    for item in calls:
        summary = _text(f"Call {item.name}" + (f" ({item.reach})" if item.reach else ""))
        lines += ["BEGIN:VEVENT", "SUMMARY:" + summary]
        if item.time:
            start = datetime.combine(day, time.fromisoformat(item.time), tzinfo=zone)
            lines += [_moment("DTSTART", start, zoned),
                      _moment("DTEND", start + timedelta(minutes=CALL_MINUTES), zoned)]
        else:
            lines += [start_day, end_day]
        lines += ["DTSTAMP:" + stamp, "UID:" + _text(_uid(item, day, domain)),
                  "DESCRIPTION:" + _text(f"{item.why}\nCall sheet: {item.file}")]
        if item.time:
            lines += ["TRANSP:OPAQUE", "BEGIN:VALARM", "ACTION:DISPLAY",
                      "DESCRIPTION:" + summary, f"TRIGGER:-PT{REMIND_MINUTES}M", "END:VALARM"]
        else:
            lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(("\r\n".join(map(_fold, head)), "\r\n", vtimezone,
                    "\r\n".join(map(_fold, lines)), "\r\n")).encode("utf-8")


def _text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 section 3.3.11 (and icalendar) write it: a line break
    of any kind becomes `\\n`."""
    return (value.replace("\\N", "\n").replace("\\", "\\\\").replace(";", "\\;")
            .replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
            .replace("\r", "\\n"))


def _day_text(day: date) -> str:
    return f"{day.year:04}{day.month:02}{day.day:02}"


def _utc_text(moment: datetime) -> str:
    return f"{_day_text(moment)}T{moment.hour:02}{moment.minute:02}{moment.second:02}Z"


def _moment(name: str, moment: datetime, zoned) -> str:
    """A DTSTART or DTEND of a timed call: in UTC without a timezone, else with its TZID."""
    if zoned is None:
        return f"{name}:{_utc_text(moment.astimezone(_utc()))}"
    value = zoned(moment)
    tzid = value.params.get("TZID")
    return f"{name}{f';TZID={tzid}' if tzid else ''}:{value.to_ical().decode('ascii')}"


def _fold(line: str) -> str:
    """RFC 5545 line folding as icalendar does it: at most 74 octets a line before its break
    (a continuation adds its leading space), never inside a character, and never between a
    backslash or caret and the character it escapes."""
    if len(line) <= 74 and (line.isascii() or len(line.encode("utf-8")) <= 74):
        return line
    parts, current, size = [], [], 0
    for char in line:
        width = 1 if char < "\x80" else len(char.encode("utf-8"))
        if current and size + width >= 75:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                parts.append("".join(current))
                current, size = [carried], 1
            else:
                parts.append("".join(current))
                current, size = [], 0
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _uid(item: Item, day: date, domain: str) -> str:
    seed = "\x1f".join((item.contact, item.step, day.isoformat()))
    return f"{hashlib.sha256(seed.encode('utf-8')).hexdigest()[:32]}@{domain}"


def _utc():
    from datetime import timezone

    return timezone.utc
