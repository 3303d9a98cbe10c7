"""Random books of one contact with a past, for `plan` against a `run` every day.

`gen(seed)` draws a playbook (randombooks' shape, with holidays, a periodic phase between two
others, a `reply` rule, maybe a second playbook `q` to move to), a contact row, and a journal
of rows before `today`, either lived (runs on random days, cron sometimes stopping weeks
before today, with commands between them as `skip`, `log` and `reply` write their rows, and
rows `sync` or a person adds: replies, bounces of the current or an old address, sent mail,
auto-replies, statuses, call-backs, undos) or drawn at random in the formats cadence writes.
The ledger row is what the runs wrote, emptied (rebuilt from the journal), the journal's
values, an older copy of the sheet, or has counts, a status or a call-back typed in.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from cadence import engine
from cadence.model import Entry
from cadence.trail import trail_of
from helpers import contact, playbook

CHANNELS = ["email", "call", "sms", "letter"]
STATE = ("started", "status", "paused_until", "touches", "last_touch", "last_channel",
         "last_step", "next_due", "last_reply", "callback")
D = timedelta(days=1)


def random_playbook(r: random.Random, reply: str, ifs=()) -> str:
    """randombooks.playbooks, drawn from a Random, with a `reply` rule and maybe an `if` rule
    of `ifs`."""
    lines = ["channels: [" + ", ".join(CHANNELS) + "]"]
    if r.random() < .5:
        hol = ""
        if r.random() < .5:
            base = date(2026, 1, 1) + timedelta(days=r.randint(0, 800))
            hol = ", holidays: [" + ", ".join(str(base + timedelta(days=r.randint(0, 9)))
                                             for _ in range(r.randint(1, 4))) + "]"
        lines.append(f"calendar: {{business_days: {str(r.random() < .5).lower()}{hol}}}")
    limits = []
    if r.random() < .5:
        limits.append(f"min_gap: {r.randint(1, 5)} days")
    if r.random() < .5:
        limits.append(f"per_week: {r.randint(1, 4)}")
    if limits:
        lines.append("limits: {" + ", ".join(limits) + "}")
    until = r.randint(10, 40)
    lines += ["phases:", "  - name: decide", f"    until: {until} days", "    steps:"]
    at = 0
    for _ in range(r.randint(1, 5)):
        channel = r.choice(CHANNELS)
        fallback = r.choice(["", "", ", fallback: skip", ", fallback: [email]"])
        if r.random() < .5:
            at = r.randint(at, min(at + 8, until))
            lines.append(f"      - {{at: {at} days, channel: {channel}, template: t{fallback}}}")
        else:
            lines.append(f"      - {{after: {r.randint(0, 6)} days, channel: {channel}, "
                         f"template: t{fallback}}}")
    if r.random() < .3:
        lines += ["  - name: mid", f"    until: {until + r.randint(5, 40)} days",
                  f"    every: {r.choice(['2 days', '4 days', '1 week'])}",
                  f"    channel: {r.choice(CHANNELS)}", "    templates: [t, t]"]
        if r.random() < .5:
            lines += [f"    fallback: {r.choice(['skip', '[email]'])}"]
    if r.random() < .6:
        every = r.choice(["3 days", "1 week", "2 weeks", "1 month"])
        lines += ["  - name: keep", f"    every: {every}", f"    channel: {r.choice(CHANNELS)}",
                  "    template: t"]
    rules = []
    for _ in range(r.randint(0, 3)):
        rules.append(f"  - no_reply: {r.randint(1, 6)} days")
        after = r.choice(["", "[email]", "[call]", "[email, letter]"])
        rules += [f"    after: {after}"] if after else []
        rules += ["    in: [decide]"] if r.random() < .5 else []
        rules += [f"    then: {r.choice(CHANNELS)}", "    template: t"]
        rules += [f"    fallback: {r.choice(['skip', '[email]', '[letter, call]'])}"] \
            if r.random() < .5 else []
    if r.random() < .5:
        rules += ["  - birthday: email", "    template: t"]
    if ifs and r.random() < .5:
        rules += [f"  - if: \"{r.choice(ifs)}\"", f"    channel: {r.choice(CHANNELS)}"]
    if reply:
        rules += [f"  - reply: {reply}"]
    if rules:
        lines += ["rules:"] + rules
    return "\n".join(lines) + "\n"


Q_BOOK = ("channels: [email, call, letter]\nphases:\n  - name: onboard\n    until: 20 days\n"
          "    steps:\n      - {at: 1 day, channel: email, template: t}\n"
          "      - {after: 3 days, channel: call, template: t}\n"
          "  - name: later\n    every: 2 weeks\n    channel: email\n    template: t\n")


def step_ids(pb) -> list:
    ids = list(pb.steps)
    ids += [f"{name}-{n}" for name in pb.periodic for n in (1, 2, 3)]
    return ids


def rand_day(r, lo: date, hi: date) -> date:
    return lo + timedelta(days=r.randint(0, max(0, (hi - lo).days)))


def random_row(r, cid, day: date, pbs, name: str, email: str, today: date, rows) -> list:
    """One or two rows a command or sync could have written on `day`."""
    pb = pbs.get(name) or pbs["p"]
    kind = r.choice(["touch", "touch", "rule", "hand", "skip", "reply", "sync", "bounce",
                     "bounce", "sent", "autoreply", "status", "note", "undo", "started"])
    E = lambda event, step="", channel="", template="", note="", pbn=None: Entry(  # noqa: E731
        day, cid, event, pbn or name, step, channel, template, note)
    ids = step_ids(pb)
    if kind == "touch":
        return [E("touch", r.choice(ids), r.choice(CHANNELS), "t")]
    if kind == "rule":
        step = r.choice(["no_reply", "callback", "birthday"])
        note = f"no reply since {day - 3 * D} ({r.choice(CHANNELS)})" if step == "no_reply" else ""
        return [E("touch", step, r.choice(CHANNELS), "t" if step != "callback" else "callback",
                  note)]
    if kind == "hand":
        return [E("touch", "", r.choice(CHANNELS), "", r.choice(["", "met at fair"]))]
    if kind == "skip":
        step = r.choice(ids + ["no_reply", "birthday", "callback"])
        return [E("skip", step, r.choice(CHANNELS + [""]), "t",
                  r.choice(["skipped by hand", "no allowed channel: no phone for call",
                            f"phase decide ended on {day}"]))]
    if kind == "reply":
        rule = r.choice(["stop", "continue", "continue", f"pause until {day + 14 * D}",
                         f"pause until {day + 5 * D}", "move to q"])
        rows = [E("reply", note=f"reply: {rule}")]
        if rule == "move to q" and "q" in pbs:
            rows.append(E("status", note="started", pbn="q"))
        return rows
    if kind == "sync":
        rows = [E("reply", channel="email",
                  note=r.choice(["<m1@x> Re: hello", "junk: <m2@x> Re: hello"]))]
        if r.random() < .5:
            rows.append(E("status", note=r.choice(["replied (a reply by email)",
                                                   f"paused until {day + 10 * D} (a reply by email)"])))
        return rows
    if kind == "bounce":
        address = r.choice([email or "c1@example.com", "old@example.com", email.upper() or "X@Y.Z"])
        return [E("bounce", r.choice(["", r.choice(ids)]), "email", "",
                  f"<b{r.randint(1, 9)}@mx> Undeliverable [address {address}]")]
    if kind == "sent":
        return [E("sent", r.choice(ids), "email", "", "<abc@x> Subject")]
    if kind == "autoreply":
        return [E("autoreply", "", "email", "", "<a@x> Out of office")]
    if kind == "status":
        return [E("status", note=r.choice([
            "won", "lost", "replied", "stopped", "unsubscribed", "active",
            f"paused until {rand_day(r, day + D, today + 40 * D)}",
            f"active again after a pause until {day}", "won (set in the ledger)",
            f"paused until {rand_day(r, day + D, today + 40 * D)} (set in the ledger)"]))]
    if kind == "started":
        return [E("status", note=r.choice(["started", "started (set in the ledger)"]),
                  pbn=r.choice([name, name, "q" if "q" in pbs else name]))]
    if kind == "note":
        cb = rand_day(r, day, today + 30 * D)
        return [E("note", note=r.choice([
            f"callback {cb}", f"callback {cb}T10:30", f"callback {cb} (set in the ledger)",
            f"last_reply {rand_day(r, day - 10 * D, day)} (set in the ledger)",
            f"reply on {day}", "done: talked", "wants a quote"]))]
    if kind == "undo":
        mine = [e for e in rows if e.event in ("touch", "skip", "status", "note")]
        if not mine:
            return []
        e = r.choice(mine)
        note = e.event if e.event in ("touch", "skip") else f"{e.event} {e.note.split()[0]}"
        return [Entry(e.date, cid, "undo", e.playbook, e.step, e.channel, e.template, note)]
    return []


BY_HAND = "skipped by hand"
_LAST_TRAIL, _LAST_CONTACT = [None, -1, None], [None, None]


def trail_of_rows(rows):
    """trail_of(rows), made again only when the rows grew: a day's run and commands read one
    journal, which is only ever appended to (and a Trail is the same in any row order)."""
    if _LAST_TRAIL[0] is not rows or _LAST_TRAIL[1] != len(rows):
        _LAST_TRAIL[:] = [rows, len(rows), trail_of(rows)]
    return _LAST_TRAIL[2]


def contact_of_row(row: dict):
    """contact(**row), made again only when a cell changed."""
    key = tuple(row.items())
    if _LAST_CONTACT[0] != key:
        _LAST_CONTACT[:] = [key, contact(**row)]
    return _LAST_CONTACT[1]


def cmd_skip(r, row, rows, pbs, day):
    """`cadence skip c1 [--step S]` as skip.py does it (not the branch of a touch drafted
    today): the touch due today, else the next planned one, dated its own day (maybe ahead)."""
    c, trail = contact_of_row(row), trail_of_rows(rows)
    if c.playbook not in pbs:
        return None
    last = trail.last
    if last is not None and last.date == day and last.step and last.playbook == c.playbook:
        return None
    st = engine.state_of(c, trail, pbs)
    if st.started is None:
        return None
    step = ""
    if r.random() < .3:
        future = [t.step for t in engine.plan(c, trail, pbs, day, 60)]
        step = r.choice(future) if future else ""
    res = engine.day(st, pbs, day, None, by_hand=(step, BY_HAND))
    if res.skipped is not None:
        entries, after, next_due = res.entries, res.state, res.next_due
    else:
        start = day
        if st.status == "paused" and st.paused_until is not None and st.paused_until > day:
            start = st.paused_until
        touch = next((t for t, _ in engine.ahead(c, trail, pbs, start, 400)
                      if t and (not step or t.step == step)), None)
        if touch is None:
            return None
        when = max(day, touch.due)
        entries = res.entries + (Entry(when, c.id, "skip", touch.playbook, touch.step,
                                       touch.channel, touch.template, BY_HAND),)
        after = engine.skipped(res.state, touch, when)
        next_due = engine.upcoming(after, pbs, day)
    return list(entries), engine.changes_of(c, after, next_due)


def cmd_log(r, row, rows, pbs, day):
    """`cadence log c1 --channel C --on D` as reply.py's `log` does it."""
    c, trail = contact_of_row(row), trail_of_rows(rows)
    if c.playbook not in pbs:
        return None
    when = day - r.randint(0, 2) * D
    used = r.choice(CHANNELS)
    st = engine.state_of(c, trail, pbs)
    if st.started is None:
        return None
    st = st._replace(touches=st.touches + 1, touch_dates=tuple(sorted(st.touch_dates + (when,))))
    if st.last_touch is None or when >= st.last_touch:
        st = st._replace(last_touch=when, last_channel=used, last_kind="manual", last_rule=-1)
    entry = Entry(when, c.id, "touch", c.playbook, channel=used, note="")
    return [entry], engine.changes_of(c, st, engine.upcoming(st, pbs, day))


def cmd_reply(r, row, rows, pbs, day):
    """`cadence reply c1 [--on D] [--callback D]`, without --pause/--move/--won/--lost."""
    c, trail = contact_of_row(row), trail_of_rows(rows)
    if c.playbook not in pbs:
        return None
    when = day - r.randint(0, 3) * D
    st = engine.state_of(c, trail, pbs)
    if st.started is None:
        return None
    latest = max(when, st.last_reply) if st.last_reply else when
    st = st._replace(last_reply=latest)
    st, entries = engine.act_on_reply(st, pbs)
    if not entries:
        entries = (Entry(when, c.id, "note", c.playbook, note=f"reply on {when}"),)
    agreed = ""
    if r.random() < .5 and engine.honours_callback(st):
        cb = when + r.randint(0, 20) * D
        agreed = cb.isoformat() + r.choice(["", "T10:00"])
        new = c._replace(callback=cb, callback_time=agreed[11:],
                         row={**c.row, "callback": agreed})
        st = st._replace(contact=new)
        entries += (Entry(when, c.id, "note", st.playbook, note=f"callback {agreed}"),)
    changes = engine.changes_of(c, st, engine.upcoming(st, pbs, day))
    if latest != c.last_reply:
        changes["last_reply"] = latest.isoformat()
    if agreed:
        changes["callback"] = agreed
    return list(entries), changes


COMMANDS = [cmd_skip, cmd_skip, cmd_log, cmd_reply]


def gen(seed: int, ifs=(), condition=None) -> dict:
    """A random book of one contact with a past: see the module's docstring."""
    r = random.Random(seed)
    reply = r.choice(["", "stop", "continue", "pause 2 weeks", "pause 5 days", "move q"])
    pb_text = random_playbook(r, reply, ifs)
    pbs = {"p": playbook(pb_text)}
    if reply == "move q" or r.random() < .2:
        pbs["q"] = playbook(Q_BOOK, "q")
    today = date(2026, 1, 1) + timedelta(days=r.randint(0, 700))
    started = today - timedelta(days=r.randint(1, 120))
    email = r.choice(["c1@example.com", "c1@example.com", ""])
    cells = {
        "id": "c1", "name": "Ann", "email": email,
        "phone": r.choice(["", "+46701234567", "+46701234567"]),
        "address": r.choice(["", "Storgatan 1"]), "playbook": "p",
        "channels": ";".join(r.sample(CHANNELS, r.choice([0, 0, 0, 1, 2, 3]))),
        "optout": r.choice(["", "", "", "call", "email;letter"]),
        "birthday": r.choice(["", "", "1980-02-29", "11-23", "01-01",
                              f"{(today + r.randint(-20, 20) * D):%m-%d}"]),
        "started": started.isoformat() if r.random() < .8 else "",
    }
    mode = r.choice(["lived", "lived", "random"])
    rows = []
    if mode == "lived":
        row = dict(cells)
        day = started
        snapshots = []
        stop = today - r.randint(10, 100) * D if r.random() < .3 else today
        while day < today:
            near = (today - day).days <= 10 or (stop - day).days <= 5
            for when in ("before", "after"):
                if when == "after" and day < stop and r.random() < .8:  # a run (cron misses days)
                    out = engine.advance(contact_of_row(row), trail_of_rows(rows), pbs, day,
                                         condition)
                    row.update(out.changes)
                    rows += list(out.entries)
                    snapshots.append(dict(row))
                if r.random() < (.25 if near else .06):  # a command between runs
                    done = r.choice(COMMANDS)(r, row, rows, pbs, day)
                    if done is not None:
                        rows += done[0]
                        row.update(done[1])
                if r.random() < (.3 if near else .08):  # an event between runs
                    new = random_row(r, "c1", day, pbs, row.get("playbook") or "p",
                                     row["email"], today, rows)
                    rows += new
                    if r.random() < .3:  # and sometimes the user types it in the ledger too
                        for e in new:
                            if e.event == "reply":
                                row["last_reply"] = day.isoformat()
                            elif e.event == "status" and e.note.split()[0] in (
                                    "won", "lost", "replied", "active", "paused"):
                                row["status"] = e.note.split()[0]
                                if row["status"] == "paused":
                                    row["paused_until"] = e.note.split()[2]
                            elif e.event == "note" and e.note.startswith("callback "):
                                row["callback"] = e.note.split()[1]
            if r.random() < .1 and row["email"]:
                row["email"] = r.choice(["c1@new.example", "c1@example.com"])
            day += D
        cells = row
        if snapshots and r.random() < .2:  # a sheet behind the journal
            stale = r.choice(snapshots)
            cells = {**row, **{k: stale.get(k, "") for k in STATE}}
    else:
        for _ in range(r.randint(1, 12)):
            day = rand_day(r, started, today - D)
            rows += random_row(r, "c1", day, pbs, "p", email, today, rows)
        if not rows:
            rows.append(Entry(today - D, "c1", "touch", "p", step_ids(pbs["p"])[0], "email", "t"))
    if r.random() < .3:  # a command this morning, before the run
        done = r.choice(COMMANDS)(r, cells, rows, pbs, today)
        if done is not None:
            rows += done[0]
            cells.update(done[1])
            mode += "+cmd"
    if r.random() < .15:  # rows of this morning: a sync or a reply before the run
        rows += random_row(r, "c1", today, pbs, cells.get("playbook") or "p",
                           cells.get("email", ""), today, rows)
        mode += "+today"
    ledger = r.choice(["as is", "rebuild", "rebuilt cells", "as is"] if mode == "lived"
                      else ["rebuild", "rebuilt cells"])
    if ledger != "as is":
        cells = {k: v for k, v in cells.items() if k not in STATE or (
            k in ("started", "status", "callback", "last_reply") and r.random() < .2)}
    if ledger == "rebuilt cells":  # what a run would write back for it (the journal's state)
        st = engine.state_of(contact(**cells), trail_of(rows), pbs)
        if st.started is not None:
            cells.update(engine.changes_of(contact(**cells), st, engine.upcoming(st, pbs, today - D)))
    if r.random() < .1:  # counts imported from before cadence, typed in the sheet
        pb = pbs["p"]
        cells.update(touches=str(r.randint(0, 9)), last_channel=r.choice(CHANNELS + [""]),
                     last_touch=r.choice(["", rand_day(r, started, today - D).isoformat()]),
                     last_step=r.choice(["", r.choice(step_ids(pb)), "gone-step"]))
        ledger += "+typed"
    if r.random() < .1:  # a status, pause or call-back typed in the sheet
        pick = r.choice(["paused", "active", "won", "callback", "last_reply"])
        if pick == "paused":
            cells.update(status="paused", paused_until=str(today + r.randint(-5, 20) * D))
        elif pick == "callback":
            cells["callback"] = str(today + r.randint(-5, 20) * D) + r.choice(["", "T09:15"])
        elif pick == "last_reply":
            cells["last_reply"] = str(today - r.randint(0, 20) * D)
        else:
            cells["status"] = pick
        ledger += "+" + pick
    if "q" in pbs and any(e.playbook == "q" for e in rows) and r.random() < .5:
        cells["playbook"] = "q"
        ledger += "+q"
    rows.sort(key=lambda e: e.date)
    return {"seed": seed, "playbooks": pbs, "cells": cells, "rows": rows, "today": today,
            "days": r.choice([7, 30, 60, 90]), "mode": mode, "ledger": ledger}


def every_day(cells, rows, pbs, today, days, condition=None) -> list:
    """The touches of a `run` every day from `today`, each reading what the ones before wrote."""
    row, entries, made = dict(cells), tuple(rows), []
    for n in range(days):
        day = today + n * D
        got = engine.advance(contact_of_row(row), trail_of_rows(entries), pbs, day, condition)
        assert set(got.changes) <= engine.WRITTEN  # plan writes these into the row it tests
        row.update(got.changes)
        entries += got.entries
        if got.touch is not None:
            made.append(got.touch)
    return made
