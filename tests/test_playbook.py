"""Playbook parsing (SPEC section 4) and the safe YAML under it: valid forms and every message.

Error cases are a table of (playbook text, expected "path:line:col: message" lines). The message
text is part of the interface: change a message here and in the code together.
"""
from __future__ import annotations

import time
from datetime import date
from textwrap import dedent

import pytest
import yaml

from cadence import yamlnodes
from cadence.model import (
    CHANNELS, EXIT_CONFIG, Birthday, Calendar, Duration, If, Limits, NoReply, OnReply, Source,
)
from cadence.playbook import parse_playbook
from helpers import SPEC_EXAMPLE

TEMPLATES = {
    "t", "thanks", "questions", "offer", "lesson-1", "lesson-2", "lesson-3", "monthly",
    "no-reply-call", "registered-letter", "birthday", "letter-only.letter", "ru/thanks",
}

# One valid line of phases, so that a case can add what it tests from line 2 on.
# Columns: `[{name` 9, `decide` 17, `[{at` 32, `1d` 38, `email` 51, `t` 68.
ONE = "phases: [{name: decide, steps: [{at: 1d, channel: email, template: t}]}]\n"



def parse(text, templates=TEMPLATES, check_expr=None, path="p.yaml"):
    return parse_playbook(dedent(text), path, "p", templates, check_expr)


def messages(text, templates=TEMPLATES, check_expr=None):
    playbook, problems = parse(text, templates, check_expr)
    assert (playbook is None) == bool(problems)
    assert all(problem.code == EXIT_CONFIG for problem in problems)
    return [f"{problem.source}: {problem.message}" for problem in problems]


def days(n):
    return Duration(days=n, text=f"{n} days")


# -- valid forms ---------------------------------------------------------------------------


def test_spec_example_parses_to_the_model():
    playbook, problems = parse(SPEC_EXAMPLE)
    assert problems == []
    assert playbook.name == "p"
    assert playbook.description.startswith("Seven touches")
    assert playbook.channels == ("email", "call", "letter")
    assert playbook.calendar == Calendar(True, frozenset({date(2026, 12, 31), date(2027, 1, 1)}))
    assert playbook.limits == Limits(min_gap=Duration(days=2, text="2 days"), per_week=3)
    decide, learn, remind = playbook.phases
    assert [step.id for step in decide.steps] == ["decide-1", "decide-2", "offer"]
    assert decide.until == Duration(days=30, text="30 days") and not decide.periodic
    first, second, offer = decide.steps
    assert (first.at, first.after, first.channel, first.template) == (
        Duration(days=1, text="1 day"), None, "email", "thanks")
    assert (second.at, second.after, second.channel) == (None, days(2), "call")
    assert (offer.at, offer.channel, offer.template) == (days(21), "letter", "offer")
    assert offer.source == Source("p.yaml", 15, 9)
    assert learn.periodic and learn.every == Duration(days=7, text="1 week")
    assert learn.until == days(90) and learn.channel == "email"
    assert learn.templates == ("lesson-1", "lesson-2", "lesson-3")
    assert remind.until is None and remind.every == Duration(months=1, text="1 month")
    assert remind.templates == ("monthly",)
    assert [rule.wait for rule in playbook.no_reply] == [days(5), days(7)]
    assert playbook.no_reply[0] == NoReply(
        days(5), "call", "no-reply-call", ("email",), ("decide",), Source("p.yaml", 26, 5))
    assert playbook.no_reply[1].after == ("call",) and playbook.no_reply[1].phases == ()
    assert playbook.on_reply == OnReply("stop", source=Source("p.yaml", 35, 12))
    assert playbook.ifs == (If("contact.age | int >= 50", "letter", Source("p.yaml", 36, 5)),)
    assert playbook.birthday == Birthday("email", "birthday", Source("p.yaml", 38, 5))
    assert playbook.callback_template == "callback"
    assert playbook.source == Source("p.yaml", 1, 1)


def test_a_playbook_names_its_own_call_back_sheet():
    """`callback_template` (README "Call-backs"): a playbook in another language has its
    agreed calls on a sheet of its language; without it, SPEC 5.1's `callback`."""
    playbook, problems = parse(ONE + "callback_template: ru/thanks\n")
    assert problems == [] and playbook.callback_template == "ru/thanks"


def test_defaults_of_a_minimal_playbook():
    playbook, problems = parse(ONE)
    assert problems == []
    assert playbook.channels == CHANNELS
    assert playbook.calendar == Calendar() and playbook.limits == Limits()
    assert playbook.on_reply.action == "stop"
    assert playbook.no_reply == () and playbook.ifs == () and playbook.birthday is None
    assert playbook.phases[0].until is None  # the only phase is the last: it may go on for ever


@pytest.mark.parametrize("value, expected", [
    ("stop", OnReply("stop")),
    ("continue", OnReply("continue")),
    ("pause 14 days", OnReply("pause", duration=Duration(days=14, text="14 days"))),
    ("pause 2w", OnReply("pause", duration=Duration(days=14, text="2w"))),
    ("move long-haul", OnReply("move", playbook="long-haul")),  # not checked here: the caller
])
def test_reply_forms(value, expected):
    playbook, problems = parse(ONE + f"rules: [{{reply: {value}}}]\n")
    assert problems == []
    got = playbook.on_reply
    assert (got.action, got.duration, got.playbook) == (
        expected.action, expected.duration, expected.playbook)


def test_single_names_stand_for_lists():
    playbook, problems = parse("""\
        channels: email
        calendar: {business_days: FALSE, holidays: 2026-12-31}
        phases:
          - name: decide
            steps: [{at: 1d, channel: email, template: t}]
        rules:
          - {no_reply: 5 days, after: email, in: decide, then: email, template: t}
    """)
    assert problems == []
    assert playbook.channels == ("email",)
    assert playbook.calendar == Calendar(False, frozenset({date(2026, 12, 31)}))
    assert playbook.no_reply[0].after == ("email",)
    assert playbook.no_reply[0].phases == ("decide",)


def test_periodic_templates_as_a_single_name_and_months_against_days():
    # 1 month after 2001-01-01 is 31 days: later than 30 days, so the order is right.
    playbook, problems = parse("""\
        phases:
          - name: decide
            until: 30 days
            steps: [{id: hello, at: 30 days, channel: email, template: t}]
          - name: learn
            until: 1 month
            every: 1 week
            channel: email
            templates: lesson-1
          - {name: remind, every: 1m, channel: email, template: monthly}
    """)
    assert problems == []
    assert playbook.phases[1].templates == ("lesson-1",)
    assert playbook.phases[0].steps[0].id == "hello"  # `at` equal to `until` is inside


def test_template_lookup_prefers_channel_variant_and_nested_names():
    playbook, problems = parse("""\
        phases:
          - name: decide
            steps:
              - {at: 1d, channel: letter, template: letter-only}
              - {at: 2d, channel: email, template: ru/thanks}
    """)
    assert problems == []
    assert [step.template for step in playbook.phases[0].steps] == ["letter-only", "ru/thanks"]


def test_templates_none_skips_the_check():
    playbook, problems = parse(ONE.replace("template: t", "template: nowhere"), templates=None)
    assert problems == [] and playbook.phases[0].steps[0].template == "nowhere"


def test_check_expr_sees_each_if_expression():
    seen = []
    playbook, problems = parse(ONE + 'rules: [{if: "contact.age > 1", channel: email}]\n',
                               check_expr=lambda expr: seen.append(expr))
    assert problems == [] and seen == ["contact.age > 1"]


def test_yaml_one_one_words_stay_words():
    # `no` is not False and `on` is not True: they are names, checked as names.
    assert messages(ONE.replace("channel: email", "channel: no")) == [
        "p.yaml:1:51: unknown channel 'no' (channels: email, call, sms, messenger, letter)"]


def test_aliases_in_moderation_are_fine():
    playbook, problems = parse("""\
        channels: &mine [email, call]
        phases:
          - name: decide
            steps:
              - &touch {at: 1d, channel: email, template: t}
        rules:
          - {no_reply: 5 days, after: *mine, then: call, template: t}
    """)
    assert problems == []
    assert playbook.no_reply[0].after == ("email", "call")


# -- errors ----------------------------------------------------------------------------------

ERRORS = [
    # the document
    ("empty", "", ["p.yaml: the playbook is empty"]),
    ("only comments", "# nothing yet\n", ["p.yaml: the playbook is empty"]),
    ("only a document marker", "---\n", ["p.yaml: the playbook is empty"]),
    ("a list", "- phases\n", ["p.yaml:1:1: a playbook must be a mapping, got a list"]),
    ("a scalar", "hello\n", ["p.yaml:1:1: a playbook must be a mapping, got 'hello'"]),
    ("no phases", "description: x\n", ["p.yaml:1:1: a playbook needs `phases`"]),
    ("unknown key", ONE + "foo: 1\n", ["p.yaml:2:1: unknown key 'foo'"]),
    ("misspelt key", ONE + "descripton: x\n",
     ["p.yaml:2:1: unknown key 'descripton' (did you mean 'description'?)"]),
    ("misspelt phases: one message", "phase: [{name: a, steps: [{at: 1d, channel: email, "
     "template: t}]}]\n", ["p.yaml:1:1: unknown key 'phase' (did you mean 'phases'?)"]),
    ("duplicate key", ONE + "phases: []\n",
     ["p.yaml:2:1: duplicate key 'phases' (first at line 1)"]),
    ("description not text", ONE + "description: [a]\n",
     ["p.yaml:2:14: `description` must be text, got a list"]),
    ("phases empty", "phases: []\n", ["p.yaml:1:9: `phases` needs at least one phase"]),
    ("phases not a list", "phases: x\n", ["p.yaml:1:9: `phases` must be a list, got 'x'"]),
    ("phase not a mapping", "phases: [x]\n",
     ["p.yaml:1:10: a phase must be a mapping, got 'x'"]),
    # channels
    ("unknown channel", ONE + "channels: [email, fax]\n",
     ["p.yaml:2:19: unknown channel 'fax' (channels: email, call, sms, messenger, letter)"]),
    ("misspelt channel", ONE + "channels: [emial]\n",
     ["p.yaml:2:12: unknown channel 'emial' (did you mean 'email'?)"]),
    ("duplicate channel", ONE + "channels: [email, email]\n",
     ["p.yaml:2:19: duplicate channel 'email' in `channels`"]),
    ("no channels", ONE + "channels: []\n",
     ["p.yaml:2:11: `channels` must name at least one channel"]),
    ("channels a mapping", ONE + "channels: {email: 1}\n",
     ["p.yaml:2:11: `channels` must be a list, got a mapping"]),
    ("step channel outside the playbook's", ONE + "channels: [call, letter]\n",
     ["p.yaml:1:51: channel 'email' is not one of this playbook's channels (call, letter)"]),
    ("step channel unknown", ONE.replace("channel: email", "channel: fax"),
     ["p.yaml:1:51: unknown channel 'fax' (channels: email, call, sms, messenger, letter)"]),
    ("step channel misspelt", ONE.replace("channel: email", "channel: emal"),
     ["p.yaml:1:51: unknown channel 'emal' (did you mean 'email'?)"]),
    # calendar and limits
    ("business_days yes", ONE + "calendar: {business_days: yes}\n",
     ["p.yaml:2:27: `business_days` must be true or false, got 'yes'"]),
    ("business_days on", ONE + "calendar: {business_days: on}\n",
     ["p.yaml:2:27: `business_days` must be true or false, got 'on'"]),
    ("business_days empty", ONE + "calendar: {business_days: }\n",
     ["p.yaml:2:27: `business_days` must be true or false, got nothing"]),
    ("holiday not a date", ONE + "calendar: {holidays: [2026-12-31, 2026-13-01]}\n",
     ["p.yaml:2:35: `holidays` must be a date as YYYY-MM-DD, got '2026-13-01'"]),
    ("holiday in words", ONE + "calendar: {holidays: [new year]}\n",
     ["p.yaml:2:23: `holidays` must be a date as YYYY-MM-DD, got 'new year'"]),
    ("calendar key misspelt", ONE + "calendar: {holidys: []}\n",
     ["p.yaml:2:12: unknown key 'holidys' (did you mean 'holidays'?)"]),
    ("calendar not a mapping", ONE + "calendar: true\n",
     ["p.yaml:2:11: `calendar` must be a mapping, got 'true'"]),
    ("per_week zero", ONE + "limits: {per_week: 0}\n",
     ["p.yaml:2:20: `per_week` must be a positive whole number, got '0'"]),
    ("per_week words", ONE + "limits: {per_week: three}\n",
     ["p.yaml:2:20: `per_week` must be a positive whole number, got 'three'"]),
    ("per_week fraction", ONE + "limits: {per_week: 2.5}\n",
     ["p.yaml:2:20: `per_week` must be a positive whole number, got '2.5'"]),
    ("per_week of pages: cut, its length said", ONE + "limits: {per_week: " + "9" * 5000 + "}\n",
     ["p.yaml:2:20: `per_week` must be a positive whole number, got '" + "9" * 60
      + "'... (5000 characters)"]),
    ("per_week a list", ONE + "limits: {per_week: [3]}\n",
     ["p.yaml:2:20: `per_week` must be a positive whole number, got a list"]),
    ("min_gap unit", ONE + "limits: {min_gap: 2 dayz}\n",
     ["p.yaml:2:19: `min_gap`: unknown unit 'dayz' in '2 dayz': use days, weeks, months or "
      "years"]),
    ("limits key misspelt", ONE + "limits: {min_gapp: 2 days}\n",
     ["p.yaml:2:10: unknown key 'min_gapp' (did you mean 'min_gap'?)"]),
    # phases
    ("phase without name", """\
        phases:
          - until: 30 days
            steps: [{at: 1 day, channel: email, template: t}]
        """, ["p.yaml:2:5: a phase needs a `name`"]),
    ("duplicate phase", """\
        phases:
          - name: a
            until: 30 days
            steps: [{at: 1 day, channel: email, template: t}]
          - name: a
            steps: [{at: 1 day, channel: email, template: t}]
        """, ["p.yaml:5:11: duplicate phase 'a'"]),
    ("until missing before the last phase", """\
        phases:
          - name: a
            steps: [{at: 1 day, channel: email, template: t}]
          - {name: b, every: 1 week, channel: email, template: t}
        """, ["p.yaml:2:5: phase 'a' needs `until`: only the last phase may go on for ever"]),
    ("until not after the previous", """\
        phases:
          - name: a
            until: 30 days
            steps: [{at: 1 day, channel: email, template: t}]
          - name: b
            until: 4 weeks
            every: 1 week
            channel: email
            template: t
        """, ["p.yaml:6:12: phase 'b' `until` (4 weeks) must be later than the previous "
              "phase's (30 days)"]),
    ("until equal to the previous", """\
        phases:
          - {name: a, until: 30 days, steps: [{at: 1 day, channel: email, template: t}]}
          - {name: b, until: 30d, every: 1 week, channel: email, template: t}
        """, ["p.yaml:3:22: phase 'b' `until` (30d) must be later than the previous "
              "phase's (30 days)"]),
    ("until zero", """\
        phases:
          - {name: a, until: 0 days, steps: [{at: 1 day, channel: email, template: t}]}
        """, ["p.yaml:2:22: `until` cannot be zero"]),
    ("until not a duration", """\
        phases:
          - {name: a, until: soon, steps: [{at: 1 day, channel: email, template: t}]}
        """, ["p.yaml:2:22: `until`: expected a duration such as '3 days' or '2w', got 'soon'"]),
    ("steps and every", """\
        phases:
          - name: a
            steps: [{at: 1 day, channel: email, template: t}]
            every: 1 week
        """, ["p.yaml:4:5: phase 'a' has both `steps` and `every`: choose one"]),
    ("neither steps nor every", "phases: [{name: a}]\n",
     ["p.yaml:1:10: phase 'a' needs `steps` or `every`"]),
    ("channel on a timed phase", """\
        phases:
          - name: a
            channel: email
            steps: [{at: 1 day, channel: email, template: t}]
        """, ["p.yaml:3:5: `channel` belongs to a periodic phase (one with `every`)"]),
    ("steps empty", "phases: [{name: a, steps: []}]\n",
     ["p.yaml:1:27: `steps` needs at least one step"]),
    ("steps not a list", "phases: [{name: a, steps: x}]\n",
     ["p.yaml:1:27: `steps` must be a list, got 'x'"]),
    ("phase key misspelt", "phases: [{name: a, stepz: [{at: 1d, channel: email, template: t}]}]\n",
     ["p.yaml:1:20: unknown key 'stepz' (did you mean 'steps'?)"]),
    # steps
    ("step not a mapping", "phases: [{name: a, steps: [x]}]\n",
     ["p.yaml:1:28: a step must be a mapping, got 'x'"]),
    ("step key misspelt: one message",
     "phases: [{name: a, steps: [{at: 1d, channnel: email, template: t}]}]\n",
     ["p.yaml:1:37: unknown key 'channnel' (did you mean 'channel'?)"]),
    ("at and after", "phases: [{name: a, steps: [{at: 1d, after: 1d, channel: email, "
     "template: t}]}]\n", ["p.yaml:1:37: a step has both `at` and `after`: choose one"]),
    ("neither at nor after", "phases: [{name: a, steps: [{channel: email, template: t}]}]\n",
     ["p.yaml:1:28: a step needs `at` or `after`"]),
    ("no channel", "phases: [{name: a, steps: [{at: 1d, template: t}]}]\n",
     ["p.yaml:1:28: a step needs a `channel`"]),
    ("no template", "phases: [{name: a, steps: [{at: 1d, channel: email}]}]\n",
     ["p.yaml:1:28: a step needs a `template`"]),
    ("empty template", "phases: [{name: a, steps: [{at: 1d, channel: email, template: ''}]}]\n",
     ["p.yaml:1:63: `template` must not be empty"]),
    ("at in words", ONE.replace("at: 1d", "at: soon"),
     ["p.yaml:1:38: `at`: expected a duration such as '3 days' or '2w', got 'soon'"]),
    ("at without unit", ONE.replace("at: 1d", "at: 5"),
     ["p.yaml:1:38: `at`: expected a duration such as '3 days' or '2w', got '5'"]),
    ("after negative", ONE.replace("at: 1d", "after: -1 day"),
     ["p.yaml:1:41: `after`: a duration cannot be negative: '-1 day'"]),
    ("step past until", """\
        phases:
          - name: decide
            until: 30 days
            steps:
              - {at: 1 day, channel: email, template: t}
              - {at: 45 days, channel: email, template: t}
        """, ["p.yaml:6:14: step 'decide-2' at 45 days is past its phase's until (30 days)"]),
    ("step past until in months", """\
        phases:
          - name: decide
            until: 30 days
            steps: [{id: late, at: 1 month, channel: email, template: t}]
        """, ["p.yaml:4:28: step 'late' at 1 month is past its phase's until (30 days)"]),
    ("duplicate step id", """\
        phases:
          - name: a
            steps:
              - {id: x, at: 1 day, channel: email, template: t}
              - {id: x, at: 2 days, channel: email, template: t}
        """, ["p.yaml:5:14: duplicate step id 'x' (first at line 4)"]),
    ("explicit id taking a default id", """\
        phases:
          - name: a
            until: 30 days
            steps:
              - {id: b-1, at: 1 day, channel: email, template: t}
          - name: b
            steps:
              - {at: 31 days, channel: email, template: t}
        """, ["p.yaml:8:9: duplicate step id 'b-1' (first at line 5)"]),
    ("id like a periodic touch", """\
        phases:
          - name: decide
            until: 30 days
            steps: [{id: learn-3, at: 1 day, channel: email, template: t}]
          - {name: learn, every: 1 week, channel: email, template: t}
        """, ["p.yaml:4:18: step id 'learn-3' looks like a touch of periodic phase 'learn'"]),
    ("empty id", ONE.replace("{at", "{id: '', at"),
     ["p.yaml:1:38: `id` must not be empty"]),
    # periodic phases
    ("every zero", "phases: [{name: a, every: 0 weeks, channel: email, template: t}]\n",
     ["p.yaml:1:27: `every` cannot be zero"]),
    ("every in words", "phases: [{name: a, every: weekly, channel: email, template: t}]\n",
     ["p.yaml:1:27: `every`: expected a duration such as '3 days' or '2w', got 'weekly'"]),
    ("every without channel", "phases: [{name: a, every: 1w, template: t}]\n",
     ["p.yaml:1:10: phase 'a' needs a `channel` for `every`"]),
    ("template and templates", "phases: [{name: a, every: 1w, channel: email, template: t, "
     "templates: [t]}]\n",
     ["p.yaml:1:60: phase 'a' has both `template` and `templates`: choose one"]),
    ("neither template nor templates", "phases: [{name: a, every: 1w, channel: email}]\n",
     ["p.yaml:1:10: phase 'a' needs `template` or `templates`"]),
    ("templates empty", "phases: [{name: a, every: 1w, channel: email, templates: []}]\n",
     ["p.yaml:1:58: `templates` must name at least one template"]),
    # templates that do not exist
    ("step template missing", ONE.replace("template: t", "template: nope"),
     ["p.yaml:1:68: template 'nope' not found (looked for templates/nope.email.j2 and "
      "templates/nope.j2)"]),
    ("channel variant of another channel", ONE.replace("template: t", "template: letter-only"),
     ["p.yaml:1:68: template 'letter-only' not found (looked for "
      "templates/letter-only.email.j2 and templates/letter-only.j2)"]),
    ("periodic template missing", "phases: [{name: a, every: 1w, channel: call, "
     "templates: [t, nope]}]\n",
     ["p.yaml:1:61: template 'nope' not found (looked for templates/nope.call.j2 and "
      "templates/nope.j2)"]),
    ("no_reply template missing", ONE + "rules: [{no_reply: 5d, then: call, template: x}]\n",
     ["p.yaml:2:46: template 'x' not found (looked for templates/x.call.j2 and "
      "templates/x.j2)"]),
    ("callback template missing", ONE + "callback_template: sv/callback\n",
     ["p.yaml:2:20: template 'sv/callback' not found (looked for templates/sv/callback.call.j2 "
      "and templates/sv/callback.j2)"]),
    ("callback template not text", ONE + "callback_template: [a]\n",
     ["p.yaml:2:20: `callback_template` must be text, got a list"]),
    # rules
    ("rules not a list", ONE + "rules: x\n", ["p.yaml:2:8: `rules` must be a list, got 'x'"]),
    ("rule not a mapping", ONE + "rules: [x]\n",
     ["p.yaml:2:9: a rule must be a mapping, got 'x'"]),
    ("rule of no kind", ONE + "rules: [{then: call}]\n",
     ["p.yaml:2:9: a rule needs one of no_reply, reply, if, birthday"]),
    ("rule kind misspelt", ONE + "rules: [{no_replay: 5d, then: call, template: t}]\n",
     ["p.yaml:2:10: unknown key 'no_replay' (did you mean 'no_reply'?)"]),
    ("rule of two kinds", ONE + "rules: [{reply: stop, birthday: email}]\n",
     ["p.yaml:2:23: a rule may have only one of no_reply, reply, if, birthday "
      "(this one has `reply` and `birthday`)"]),
    ("key of another kind", ONE + "rules: [{birthday: email, then: call}]\n",
     ["p.yaml:2:27: unknown key 'then'"]),
    ("key misspelt in a rule: one message",
     ONE + "rules: [{no_reply: 5d, thn: call, template: t}]\n",
     ["p.yaml:2:24: unknown key 'thn' (did you mean 'then'?)"]),
    ("no_reply zero", ONE + "rules: [{no_reply: 0 days, then: call, template: t}]\n",
     ["p.yaml:2:20: `no_reply` cannot be zero"]),
    ("no_reply without then", ONE + "rules: [{no_reply: 5d, template: t}]\n",
     ["p.yaml:2:9: a `no_reply` rule needs `then`"]),
    ("no_reply without template", ONE + "rules: [{no_reply: 5d, then: call}]\n",
     ["p.yaml:2:9: a `no_reply` rule needs a `template`"]),
    ("no_reply after unknown channel",
     ONE + "rules: [{no_reply: 5d, after: [email, pigeon], then: call, template: t}]\n",
     ["p.yaml:2:39: unknown channel 'pigeon' (channels: email, call, sms, messenger, letter)"]),
    ("no_reply then outside the playbook's channels",
     ONE + "channels: [email]\nrules: [{no_reply: 5d, then: call, template: t}]\n",
     ["p.yaml:3:30: channel 'call' is not one of this playbook's channels (email)"]),
    ("no_reply in misspelt phase",
     ONE + "rules: [{no_reply: 5d, in: [decde], then: call, template: t}]\n",
     ["p.yaml:2:29: unknown phase 'decde' (did you mean 'decide'?)"]),
    ("no_reply in unknown phase",
     ONE + "rules: [{no_reply: 5d, in: later, then: call, template: t}]\n",
     ["p.yaml:2:28: unknown phase 'later' (phases: decide)"]),
    ("reply malformed", ONE + "rules: [{reply: halt}]\n",
     ["p.yaml:2:17: `reply` must be stop, continue, pause <duration> or move <playbook>, "
      "got 'halt'"]),
    ("reply pause without duration", ONE + "rules: [{reply: pause}]\n",
     ["p.yaml:2:17: `reply` must be stop, continue, pause <duration> or move <playbook>, "
      "got 'pause'"]),
    ("reply move without playbook", ONE + "rules: [{reply: move}]\n",
     ["p.yaml:2:17: `reply` must be stop, continue, pause <duration> or move <playbook>, "
      "got 'move'"]),
    ("reply stop with more", ONE + "rules: [{reply: stop now}]\n",
     ["p.yaml:2:17: `reply` must be stop, continue, pause <duration> or move <playbook>, "
      "got 'stop now'"]),
    ("reply pause bad duration", ONE + "rules: [{reply: pause a while}]\n",
     ["p.yaml:2:17: `reply: pause`: expected a duration such as '3 days' or '2w', "
      "got 'a while'"]),
    ("reply pause zero", ONE + "rules: [{reply: pause 0d}]\n",
     ["p.yaml:2:17: `reply: pause` cannot be zero"]),
    ("two reply rules", ONE + "rules:\n  - reply: stop\n  - reply: continue\n",
     ["p.yaml:4:5: only one `reply` rule"]),
    ("if without channel", ONE + "rules: [{if: 'contact.age > 1'}]\n",
     ["p.yaml:2:9: an `if` rule needs a `channel`"]),
    ("if empty", ONE + "rules: [{if: '', channel: email}]\n",
     ["p.yaml:2:14: `if` must not be empty"]),
    ("if with an unknown channel", ONE + "rules: [{if: 'x', channel: fax}]\n",
     ["p.yaml:2:28: unknown channel 'fax' (channels: email, call, sms, messenger, letter)"]),
    ("two birthday rules", ONE + "rules:\n  - birthday: email\n  - birthday: letter\n",
     ["p.yaml:4:5: only one `birthday` rule"]),
    ("birthday unknown channel", ONE + "rules: [{birthday: mail}]\n",
     ["p.yaml:2:20: unknown channel 'mail' (did you mean 'email'?)"]),
    ("birthday template missing", ONE + "rules: [{birthday: email, template: bday}]\n",
     ["p.yaml:2:37: template 'bday' not found (looked for templates/bday.email.j2 and "
      "templates/bday.j2)"]),
]


@pytest.mark.parametrize("text, expected", [case[1:] for case in ERRORS],
                         ids=[case[0] for case in ERRORS])
def test_error(text, expected):
    assert messages(text) == expected


@pytest.mark.parametrize("reserved", ["callback", "no_reply", "birthday"])
def test_reserved_step_ids(reserved):
    assert messages(ONE.replace("{at", f"{{id: {reserved}, at")) == [
        f"p.yaml:1:38: step id '{reserved}' is reserved for touches made by rules"]


def test_default_birthday_template_must_exist():
    text = ONE + "rules: [{birthday: email}]\n"
    assert messages(text, templates=TEMPLATES - {"birthday"}) == [
        "p.yaml:2:20: template 'birthday' not found (looked for templates/birthday.email.j2 "
        "and templates/birthday.j2)"]
    assert messages(text, templates=TEMPLATES - {"birthday"} | {"birthday.email"}) == []


def test_if_expression_error_from_check_expr():
    def check(expr):
        return "unexpected '>'" if ">>" in expr else None

    assert messages(ONE + "rules: [{if: 'contact.age >> 1', channel: email}]\n",
                    check_expr=check) == [
        "p.yaml:2:14: invalid expression in `if`: unexpected '>'"]


def test_all_problems_are_reported_sorted():
    # Found channels first, phases next, rules last; reported by position.
    text = """\
        rules: [{reply: halt}]
        phases:
          - name: decide
            steps:
              - {at: 1 day, channel: email, template: t, colour: red}
        description: x
        calendar: {business_days: maybe}
        channels: [email, fax]
    """
    assert messages(text) == [
        "p.yaml:1:17: `reply` must be stop, continue, pause <duration> or move <playbook>, "
        "got 'halt'",
        "p.yaml:5:50: unknown key 'colour'",
        "p.yaml:7:27: `business_days` must be true or false, got 'maybe'",
        "p.yaml:8:19: unknown channel 'fax' (channels: email, call, sms, messenger, letter)",
    ]


def test_hints():
    _, problems = parse(ONE + "foo: 1\n")
    assert problems[0].hint == "keys here: description, channels, calendar, limits, phases, rules, callback_template, ignore"
    _, problems = parse(ONE + "rules: [{birthday: email, then: call}]\n")
    assert problems[0].hint == "keys here: birthday, template, fallback"
    _, problems = parse("""\
        phases:
          - {name: a, until: 1w, steps: [{at: 1d, channel: email, template: t}]}
          - {name: a, steps: [{at: 8d, channel: email, template: t}]}
    """)
    assert problems[0].hint == "the first is at line 2"


# -- the YAML underneath ---------------------------------------------------------------------

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
    for previous, name in zip("abcdefgh", "bcdefghi")
)

YAML_ERRORS = [
    ("syntax", "phases: [1, 2\n",
     ["p.yaml:2:1: invalid YAML: did not find expected ',' or ']'"]),
    ("tab indent", "phases:\n\t- x\n",
     ["p.yaml:2:1: invalid YAML: a tab character"]),
    ("unclosed quote", "description: 'x\n",
     ["p.yaml:2:1: invalid YAML: found unexpected end of stream"]),
    ("python tag", "description: !!python/object/apply:os.system [ls]\n",
     ["p.yaml:1:14: tags are not allowed: '!!python/object/apply:os.system'"]),
    ("local tag", ONE + "description: !foo x\n", ["p.yaml:2:14: tags are not allowed: '!foo'"]),
    ("set tag", ONE + "channels: !!set {email}\n",
     ["p.yaml:2:11: tags are not allowed: '!!set'"]),
    ("billion laughs", BILLION_LAUGHS,
     ["p.yaml:2:8: the file is too large or uses too many aliases"]),
    ("recursive alias", "phases: &p [{name: a, steps: *p}]\n",
     ["p.yaml:1:30: the file is too large or uses too many aliases"]),
    ("deep flow", "[" * 100_000, ["p.yaml:1:101: nesting too deep"]),
    ("deep block", "a:\n" + "".join(" " * i + "-\n" for i in range(0, 400, 2)),
     ["p.yaml:101:199: nesting too deep"]),
    ("undefined alias", "phases: *nowhere\n", ["p.yaml:1:9: invalid YAML: found undefined alias"]),
    ("two documents", ONE + "---\n" + ONE,
     ["p.yaml:2:1: invalid YAML: a second document in one file"]),
    ("control character", "description: \x01\n",
     ["p.yaml:1:14: invalid YAML: control characters are not allowed"]),
    ("merge key", ONE + "<<: {description: x}\n",
     ["p.yaml:2:1: merge keys (<<) are not supported"]),
    ("key not text", ONE + "? [a]\n: 1\n", ["p.yaml:2:3: a key must be text, got a list"]),
]


@pytest.fixture(params=["libyaml", "python"])
def loader(request, monkeypatch):
    """Run the YAML cases with libyaml (when present) and with PyYAML's pure-Python loader."""
    if request.param == "python":
        monkeypatch.setattr(yamlnodes, "_Loader", yaml.SafeLoader)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("libyaml is not available")
    return request.param


@pytest.mark.parametrize("text, expected", [case[1:] for case in YAML_ERRORS],
                         ids=[case[0] for case in YAML_ERRORS])
def test_yaml_error(loader, text, expected):
    started = time.monotonic()
    got = messages(text)
    if loader == "python":  # PyYAML words syntax errors its own way; the place is the same
        got, expected = ([line.partition("YAML: ")[0] for line in lines]
                         for lines in (got, expected))
    assert got == expected
    assert time.monotonic() - started < 5


def test_syntax_error_hint_names_the_context():
    _, problems = parse("phases: [1, 2\n")
    assert problems[0].hint == "while parsing a flow sequence (line 1)"


def test_recursion_error_is_a_problem(monkeypatch):
    # Belt and braces: should the depth check ever let deep input through to the composer.
    monkeypatch.setattr(yamlnodes, "_Loader", yaml.SafeLoader)
    monkeypatch.setattr(yamlnodes, "MAX_DEPTH", 10**9)
    assert messages("[" * 500 + "]" * 500) == ["p.yaml: nesting too deep"]


def test_columns_count_characters_not_bytes():
    assert messages("description: {a: 'Привет', c: !foo x}\n") == [
        "p.yaml:1:31: tags are not allowed: '!foo'"]


def test_source_of_carries_the_path():
    node, problems = yamlnodes.compose_yaml("a:\n  b: 1\n", "dir/x.yaml")
    assert problems == []
    assert yamlnodes.source_of(node.value[0][1].value[0][1]) == Source("dir/x.yaml", 2, 6)


@pytest.mark.parametrize("calendar, day, working", [
    # README "Playbooks": a country's public holidays (the `holidays` package) beside the dates
    ("{business_days: true, country: SE}", "2026-04-03", False),   # Good Friday
    ("{business_days: true, country: SE}", "2026-04-06", False),   # Easter Monday
    ("{business_days: true, country: SE}", "2026-04-07", True),
    ("{business_days: true, country: se, holidays: [2026-04-07]}", "2026-04-07", False),
    ("{business_days: true, country: DE}", "2027-10-04", True),
    ("{business_days: true, country: NO}", "2031-05-16", True),
    ("{business_days: true, country: NO}", "2030-05-17", False),   # Constitution Day, a Friday
    ("{business_days: false, country: SE}", "2026-12-25", True),   # not asked for
    ("{business_days: true, country: SE}", "2031-12-25", False),   # any year
])
def test_a_country_s_holidays_are_not_working_days(calendar, day, working):
    text = f"calendar: {calendar}\nphases:\n  - name: a\n    every: 1 week\n" \
           "    channel: email\n    template: t\n"
    found, problems = parse_playbook(text, "p.yaml", "p", None, None)
    assert problems == []
    assert found.calendar.is_working(date.fromisoformat(day)) is working


def test_a_due_date_on_a_country_s_holiday_moves_past_it_and_the_listed_dates():
    text = ("calendar: {business_days: true, country: SE, holidays: [2026-04-07]}\n"
            "phases:\n  - name: a\n    every: 1 week\n    channel: email\n    template: t\n")
    found, _ = parse_playbook(text, "p.yaml", "p", None, None)
    assert found.calendar.next_working(date(2026, 4, 3)) == date(2026, 4, 8)
