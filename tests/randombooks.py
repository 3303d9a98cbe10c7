"""Random books for the property tests: playbooks, ledgers and days (hypothesis strategies),
and a book built from them."""
from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from cadence.model import STATUSES
from smallbook import build

# The property tests run a modest number of examples each, so that the whole suite stays under
# two minutes; they are marked `slow`, and CADENCE_PROPERTY_EXAMPLES=N runs N times as many:
#     CADENCE_PROPERTY_EXAMPLES=20 python -m pytest -m slow
SCALE = max(1, int(os.environ.get("CADENCE_PROPERTY_EXAMPLES", "1") or 1))
slow = pytest.mark.slow


def examples(n: int) -> settings:
    """Hypothesis settings for a property test of `n` examples (times SCALE)."""
    return settings(max_examples=n * SCALE, deadline=None, derandomize=SCALE == 1,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


CHANNELS = ["email", "call", "sms", "letter"]
NAMES = ["Ann Lind", "Åsa Öberg", "Борис Петров", "Zoë O'Brien", "李雷", "Dan, Jr.", 'Eve "E" Ek']
TEMPLATE = "Subject: {{ touch.step }} for {{ contact.name }}\n\nHello {{ contact.name }} ({{ touch.channel }}).\n"
INACTIVE = ("replied", "won", "lost", "unsubscribed", "stopped")


# --- strategies -------------------------------------------------------------------------------

@st.composite
def playbooks(draw) -> str:
    """A valid playbook (YAML text): timed steps, maybe a periodic phase, limits, rules."""
    lines = ["channels: [" + ", ".join(CHANNELS) + "]"]
    if draw(st.booleans()):
        lines.append(f"calendar: {{business_days: {str(draw(st.booleans())).lower()}}}")
    limits = []
    if draw(st.booleans()):
        limits.append(f"min_gap: {draw(st.integers(1, 5))} days")
    if draw(st.booleans()):
        limits.append(f"per_week: {draw(st.integers(1, 4))}")
    if limits:
        lines.append("limits: {" + ", ".join(limits) + "}")
    until = draw(st.integers(10, 40))
    lines += ["phases:", "  - name: decide", f"    until: {until} days", "    steps:"]
    at = 0
    for _ in range(draw(st.integers(1, 5))):
        channel = draw(st.sampled_from(CHANNELS))
        fallback = draw(st.sampled_from(["", "", ", fallback: skip", ", fallback: [email]"]))
        if draw(st.booleans()):
            at = draw(st.integers(at, min(at + 8, until)))
            lines.append(f"      - {{at: {at} days, channel: {channel}, template: t{fallback}}}")
        else:
            lines.append(f"      - {{after: {draw(st.integers(0, 6))} days, channel: {channel}, "
                         f"template: t{fallback}}}")
    if draw(st.booleans()):
        every = draw(st.sampled_from(["3 days", "1 week", "2 weeks", "1 month"]))
        lines += ["  - name: keep", f"    every: {every}", f"    channel: {draw(st.sampled_from(CHANNELS))}",
                  "    template: t"]
    rules = []
    # a ladder of rules sharing one template: which rule made a journal row is read back
    for _ in range(draw(st.integers(0, 3))):
        rules.append(f"  - no_reply: {draw(st.integers(1, 6))} days")
        after = draw(st.sampled_from(["", "[email]", "[call]", "[email, letter]"]))
        rules += [f"    after: {after}"] if after else []
        rules += ["    in: [decide]"] if draw(st.booleans()) else []
        rules += [f"    then: {draw(st.sampled_from(CHANNELS))}", "    template: t"]
        rules += [f"    fallback: {draw(st.sampled_from(['skip', '[email]', '[letter, call]']))}"] \
            if draw(st.booleans()) else []
    if draw(st.booleans()):
        rules += ["  - birthday: email", "    template: t"]
    if rules:
        lines += ["rules:"] + rules
    return "\n".join(lines) + "\n"


def _day(start: date, span: int):
    return st.integers(0, span).map(lambda n: start + timedelta(days=n))


@st.composite
def rows(draw, today: date, n_max: int = 6, inert: bool = False) -> list:
    """Ledger rows: enrolled or not, any status, channels and opt-outs, some unreachable."""
    out = []
    for i in range(draw(st.integers(1 if inert else 0, n_max))):
        row = {"id": f"c{i}", "name": draw(st.sampled_from(NAMES)),
               "email": draw(st.sampled_from(["", f"c{i}@example.com"])),
               "phone": draw(st.sampled_from(["", "+46701234567", "0671234567"])),
               "address": draw(st.sampled_from(["", "Storgatan 1\n111 22 Stockholm"]))}
        enrolled = draw(st.booleans()) or not inert
        row["playbook"] = "p" if enrolled else ""
        row["started"] = draw(_day(today - timedelta(days=120), 120)).isoformat() \
            if enrolled and (inert or draw(st.booleans())) else ""
        status = draw(st.sampled_from(INACTIVE if inert else ("",) + STATUSES))
        row["status"] = status
        row["paused_until"] = draw(_day(today - timedelta(days=10), 30)).isoformat() \
            if status == "paused" else ""
        row["channels"] = ";".join(draw(st.lists(st.sampled_from(CHANNELS), unique=True, max_size=3)))
        row["optout"] = draw(st.sampled_from(["", "all", "call", "email;letter"]))
        row["birthday"] = draw(st.sampled_from(["", "1980-02-29", "11-23", "01-01"]))
        # an agreed call is made whatever the status: none in an inert book
        row["callback"] = "" if inert or draw(st.integers(0, 3)) else \
            draw(_day(today - timedelta(days=3), 30)).isoformat()
        out.append(row)
    return out


COLUMNS = ["id", "name", "email", "phone", "address", "playbook", "started", "status",
           "paused_until", "channels", "optout", "birthday", "callback"]


def csv_text(rows, delim=",", newline="\n", quote_all=False) -> str:
    def cell(value):
        if quote_all or any(ch in value for ch in (delim, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [delim.join(COLUMNS)] + [delim.join(cell(r.get(c, "")) for c in COLUMNS) for r in rows]
    return newline.join(lines) + newline


def yaml_text(rows, newline="\n") -> str:
    def scalar(value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = ["# contacts"]
    for r in rows:
        items = [f"{c}: {scalar(r[c])}" if r.get(c) else f"{c}:" for c in COLUMNS]
        lines.append("- " + (newline + "  ").join(items))
    return newline.join(lines) + newline


@st.composite
def books(draw, inert: bool = False) -> tuple:
    today = draw(_day(date(2026, 1, 1), 700))
    return draw(playbooks()), draw(rows(today, inert=inert)), today


def make_book(root, pb: str, ledger_rows, files=None) -> str:
    return build(root, {"playbooks/p.yaml": pb, "templates/t.j2": TEMPLATE,
                        "templates/callback.j2": TEMPLATE, "templates/hello.j2": None,
                        "templates/call.j2": None, "templates/call.email.j2": None,
                        "contacts.csv": csv_text(ledger_rows), **(files or {})})
