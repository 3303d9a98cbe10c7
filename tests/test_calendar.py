"""calls.ics: one event a call, written by icalendar, read back by it."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from randombooks import examples, slow

from cadence.overview import Item, _uid, calls_ics

ZONES = ["", "Europe/Stockholm", "UTC", "Etc/UTC", "America/New_York", "Asia/Kolkata",
         "Etc/GMT+5", "Australia/Lord_Howe"]


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


@slow
@examples(150)
@given(items=st.lists(st.builds(
    _item, contact=st.text(min_size=1, max_size=12), name=NAMES, reach=NAMES, why=TRICKY,
    time_=TIMES, file=st.text(min_size=1, max_size=90),
    channel=st.sampled_from(["call", "call", "email"])), max_size=6),
    tzid=st.sampled_from(ZONES),
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_every_call_reads_back(items, tzid, day):
    """Whatever the ledger's text, each call comes back from the file as it went in."""
    from icalendar import Calendar

    zone = _zone(tzid)
    data = calls_ics(day, items, zone, tzid, "example.com")
    calls = [i for i in items if i.channel == "call"]
    if not calls:
        assert data is None
        return
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    events = Calendar.from_ical(data).walk("VEVENT")
    assert len(events) == len(calls)
    for event, item in zip(events, calls):
        assert str(event["SUMMARY"]) == f"Call {item.name}" + (f" ({item.reach})" if item.reach else "")
        assert str(event["UID"]) == _uid(item, day, "example.com")
        if item.time:
            start = datetime.combine(day, time.fromisoformat(item.time), tzinfo=zone)
            assert event.decoded("DTSTART").astimezone(timezone.utc) == start.astimezone(timezone.utc)
        else:
            assert event.decoded("DTSTART") == day


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
