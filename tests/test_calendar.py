"""calls.ics is written line by line; icalendar is the reference it must equal byte for byte."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from cadence.overview import CALL_MINUTES, PRODID, REMIND_MINUTES, Item, _fold, _uid, calls_ics

ZONES = ["", "Europe/Stockholm", "UTC", "Etc/UTC", "America/New_York", "Asia/Kolkata",
         "Etc/GMT+5", "Australia/Lord_Howe"]


def reference(day, items, zone, tzid, domain):
    """The calendar built with icalendar's components, as cadence built it before."""
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


def _item(contact="c1", name="Ann Lind", channel="call", step="decide-2", why="step decide-2",
          time_="", reach="+4670", file="c1--decide-2.md") -> Item:
    return Item(contact=contact, name=name, channel=channel, step=step, playbook="p",
                template="t", why=why, time=time_, reach=reach, file=file)


def _zone(tzid: str):
    return ZoneInfo(tzid) if tzid else timezone.utc


# characters that matter: escapes, line breaks, multi-byte letters at a fold, a caret
TRICKY = st.lists(st.sampled_from(["a", "b", " ", ",", ";", ":", "\\", "\\N", "^", '"', "\n",
                                    "\r", "\r\n", "\t", "N", "Å", "ж", "€", "😀"])
                   | st.characters(blacklist_categories=("Cs",)), max_size=100).map("".join)
NAMES = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=90)
TIMES = st.one_of(st.just(""), st.builds(lambda h, m: f"{h:02}:{m:02}",
                                         st.integers(0, 23), st.integers(0, 59)))


@settings(max_examples=300, deadline=None)
@given(items=st.lists(st.builds(
    _item, contact=st.text(min_size=1, max_size=12), name=NAMES, reach=NAMES, why=TRICKY,
    time_=TIMES, file=st.text(min_size=1, max_size=90),
    channel=st.sampled_from(["call", "call", "email"])), max_size=6),
    tzid=st.sampled_from(ZONES),
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
    domain=st.sampled_from(["cadence.invalid", "holmadvisory.se", "a,b;c.example"]))
def test_the_calendar_is_icalendars_byte_for_byte(items, tzid, day, domain):
    zone = _zone(tzid)
    assert calls_ics(day, items, zone, tzid, domain) == reference(day, items, zone, tzid, domain)


def test_a_day_without_calls_has_no_calendar():
    assert calls_ics(date(2026, 11, 23), [_item(channel="email")], timezone.utc, "", "x") is None
    assert calls_ics(date(2026, 11, 23), [], timezone.utc, "", "x") is None


@pytest.mark.parametrize("tzid", ZONES)
def test_timed_and_all_day_calls_read_back(tzid):
    from icalendar import Calendar

    day, zone = date(2026, 3, 29), _zone(tzid)  # a day that changes the clock in Europe
    items = [_item(time_="14:30", why="agreed\r\nat 14:30; call, then; write\\N"),
             _item(contact="c2", name="Александр Морозов " * 4, reach="", time_="")]
    data = calls_ics(day, items, zone, tzid, "example.com")
    assert data == reference(day, items, zone, tzid, "example.com")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    timed, whole_day = Calendar.from_ical(data).walk("VEVENT")
    start = timed.decoded("DTSTART")
    assert start.astimezone(timezone.utc) == datetime(2026, 3, 29, 14, 30, tzinfo=zone) \
        .astimezone(timezone.utc)
    assert timed.decoded("DTEND") - start == timedelta(minutes=30)
    assert str(timed["DESCRIPTION"]) == "agreed\nat 14:30; call, then; write\n\n" \
        "Call sheet: c1--decide-2.md"
    assert timed.walk("VALARM")[0].decoded("TRIGGER") == timedelta(minutes=-10)
    assert whole_day.decoded("DTSTART") == day
    assert str(whole_day["SUMMARY"]) == "Call " + "Александр Морозов " * 4
    assert [z["TZID"] for z in Calendar.from_ical(data).walk("VTIMEZONE")] == \
        ([tzid] if tzid else [])


@pytest.mark.parametrize("line, folded", [
    ("x" * 74, "x" * 74),
    ("x" * 75, "x" * 74 + "\r\n x"),
    ("x" * 148, "x" * 74 + "\r\n " + "x" * 74),
    ("x" * 149, "x" * 74 + "\r\n " + "x" * 74 + "\r\n x"),
    # an escape is never cut from the character it escapes
    ("x" * 73 + "\\n" + "y", "x" * 73 + "\r\n \\ny"),
    ("x" * 73 + "^n" + "y", "x" * 73 + "\r\n ^ny"),
    # a character of two octets that would reach the 75th goes to the next line
    ("x" * 73 + "ж", "x" * 73 + "\r\n ж"),
    ("x" * 72 + "ж", "x" * 72 + "ж"),
    ("😀" * 19, "😀" * 18 + "\r\n 😀"),
])
def test_folding(line, folded):
    assert _fold(line) == folded
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
