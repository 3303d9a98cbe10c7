"""Parse a playbook (SPEC section 4) into the frozen model, with every problem and its place.

A playbook is checked on its own here: keys, durations, channels, step ids, phase order and the
templates it names. Whether a `reply: move <playbook>` names an existing playbook depends on the
other files, so the caller checks that.

Longer than most modules: it is the whole grammar of a playbook, one method a key, and a
reader checking what a key accepts finds every rule of it here, beside its error messages.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Callable, Collection, Optional

from yaml.nodes import Node

from .durations import parse_duration
from .model import (
    CHANNELS, FORMULA_STARTS, Birthday, Calendar, Duration, If, Limits, NoReply, OnReply, Phase,
    Playbook, Problem, Source, Step,
)
from .yamlnodes import Checker, compose_yaml, did_you_mean, source_of

TOP_KEYS = ("description", "channels", "calendar", "limits", "phases", "rules", "callback_template",
            "ignore")
CALENDAR_KEYS = ("business_days", "holidays", "country")
LIMIT_KEYS = ("min_gap", "per_week")
PHASE_KEYS = ("name", "until", "steps", "every", "channel", "template", "templates", "fallback")
STEP_KEYS = ("id", "at", "after", "channel", "template", "fallback")
RULE_KEYS = {
    "no_reply": ("no_reply", "after", "in", "then", "template", "fallback"),
    "reply": ("reply",),
    "if": ("if", "channel"),
    "birthday": ("birthday", "template", "fallback"),
}
RULE_KINDS = ", ".join(RULE_KEYS)
RESERVED_IDS = ("callback", "no_reply", "birthday")  # the steps of touches made by rules

# Durations mix days and calendar months; comparing them needs a day to count from.
REFERENCE = date(2001, 1, 1)

ExprCheck = Callable[[str], Optional[str]]


def parse_playbook(text: str, path: str, name: str,
                   templates: Optional[Collection[str]] = None,
                   check_expr: Optional[ExprCheck] = None, folder: str = "templates",
                   ) -> tuple[Optional[Playbook], list[Problem]]:
    """The playbook in `text`, or None and every problem found, sorted by position.

    `templates` holds the template names available (relative, without `.j2`) in the folder
    shown as `folder`; None skips that check. `check_expr` compiles an `if` expression and
    returns an error message or None.
    """
    root, problems = compose_yaml(text, path)
    if problems:
        return None, sorted(problems)
    checker = Checker(path)
    playbook = None
    if root is None:
        checker.report(Source(path), "the playbook is empty", "a playbook needs `phases`")
    else:
        playbook = _Parser(checker, name, templates, check_expr, folder).playbook(root)
    if checker.problems:
        return None, sorted(checker.problems)
    return playbook, []


def _later(a: Duration, b: Duration) -> bool:
    return a.add(REFERENCE) > b.add(REFERENCE)


# a step's id is written into the user's spreadsheet (`last_step`): one that begins with
# = + - @ would be a formula there, planted by whoever pushed the playbook
_FORMULA_HINT = ("a step's id is written into the ledger's last_step: begin it with a letter "
                 "or a digit")


class _Parser:
    """One playbook's parse: the state that later checks need (channels, phases, ids)."""

    def __init__(self, checker: Checker, name: str, templates, check_expr,
                 folder: str = "templates"):
        self.folder = folder
        self.c = checker
        self.name = name
        self.templates = None if templates is None else frozenset(templates)
        self.check_expr = check_expr
        self.channels: tuple = CHANNELS
        self.phase_names: dict[str, Node] = {}
        self.step_ids: list[tuple[str, Node]] = []
        self.periodic: set[str] = set()

    # -- the document --------------------------------------------------------------------

    def playbook(self, root: Node) -> Optional[Playbook]:
        fields = self.c.mapping(root, "a playbook", TOP_KEYS,
                                hint="keys: " + ", ".join(TOP_KEYS))
        if fields is None:
            return None
        values = {key: value for key, (_, value) in fields.items()}
        description = ""
        if "description" in values:
            description = self.c.text("description", values["description"], required=False)
        if "channels" in values:
            self.channels = self.playbook_channels(values["channels"]) or self.channels
        calendar = self.calendar(values["calendar"]) if "calendar" in values else Calendar()
        limits = self.limits(values["limits"]) if "limits" in values else Limits()
        phases: tuple = ()
        if "phases" in values:
            phases = self.phases(values["phases"])
        else:
            self.c.report(root, "a playbook needs `phases`")
        self.check_step_ids()
        rules = self.rules(values["rules"]) if "rules" in values else {}
        ignore = self.ignore(values["ignore"]) if "ignore" in values else ()
        callback = "callback"  # SPEC 5.1: an agreed call's sheet; a playbook may name its own
        if "callback_template" in values:
            callback = self.template("callback_template", values["callback_template"], "call")
        return Playbook(
            name=self.name, description=description or "", channels=self.channels,
            calendar=calendar or Calendar(), limits=limits or Limits(), phases=phases,
            no_reply=tuple(rules.get("no_reply", ())),
            on_reply=rules.get("reply", OnReply()), ifs=tuple(rules.get("if", ())),
            birthday=rules.get("birthday"), callback_template=callback or "callback",
            ignore=ignore, source=source_of(root),
        )

    def ignore(self, node: Node) -> tuple:
        """Lints this playbook silences on purpose (a ladder is not a decision window)."""
        from .lint import LINTS

        names = []
        for item in self.c.items("ignore", node) or ():
            name = self.c.text("ignore", item)
            if name is None:
                continue
            if name not in LINTS:
                close = did_you_mean(name, LINTS)
                self.c.report(item, f"unknown lint {name!r}"
                              + (f" (did you mean {close!r}?)" if close else ""),
                              "lints: " + ", ".join(LINTS))
                continue
            names.append(name)
        return tuple(names)

    def playbook_channels(self, node: Node) -> Optional[tuple]:
        """The playbook's channels in order, or None (after reporting) so that steps are then
        checked against all channels rather than against a list we know is wrong."""
        items = self.c.items("channels", node)
        if items is None:
            return None
        if not items:
            self.c.report(node, "`channels` must name at least one channel")
            return None
        found: list[Optional[str]] = []
        for item in items:
            channel = self.channel("channels", item, own=False)
            if channel is not None and channel in found:
                self.c.report(item, f"duplicate channel {channel!r} in `channels`")
            found.append(channel)
        return None if None in found else tuple(dict.fromkeys(found))

    def calendar(self, node: Node) -> Optional[Calendar]:
        fields = self.c.mapping(node, "`calendar`", CALENDAR_KEYS)
        if fields is None:
            return None
        business_days = False
        if "business_days" in fields:
            business_days = self.c.boolean("business_days", fields["business_days"][1]) or False
        holidays = set()
        if "holidays" in fields:
            for item in self.c.items("holidays", fields["holidays"][1]) or ():
                holidays.add(self.c.date("holidays", item))
        holidays.discard(None)
        country, days, where = "", None, Source("")
        if "country" in fields:
            country, days = self.country(fields["country"][1])
            where = source_of(fields["country"][1])
        return Calendar(business_days=business_days, holidays=frozenset(holidays),
                        country=country, country_days=days, source=where)

    def country(self, node: Node) -> tuple:
        """(code, its public holidays) of `country:`, by the `holidays` package."""
        code = self.c.scalar("country", node, "a country code such as SE or DE")
        if code is None:
            return "", None
        import holidays as calendars

        known = calendars.list_supported_countries()
        if code.upper() not in known:
            from .yamlnodes import did_you_mean

            guess = did_you_mean(code.upper(), [k for k in known if len(k) == 2])
            self.c.report(node, f"unknown country {code!r}" + (
                f" (did you mean {guess!r}?)" if guess else ""),
                "a two-letter ISO 3166 code such as SE, DE, NO or GB")
            return "", None
        return code.upper(), calendars.country_holidays(code.upper())

    def limits(self, node: Node) -> Optional[Limits]:
        fields = self.c.mapping(node, "`limits`", LIMIT_KEYS)
        if fields is None:
            return None
        min_gap = per_week = None
        if "min_gap" in fields:
            min_gap = self.c.duration("min_gap", fields["min_gap"][1])
        if "per_week" in fields:
            per_week = self.c.positive_int("per_week", fields["per_week"][1])
        return Limits(min_gap=min_gap, per_week=per_week)

    # -- channels and templates ------------------------------------------------------------

    def channel(self, key: str, node: Node, own: bool = True) -> Optional[str]:
        """A channel name; with `own`, it must also be one of this playbook's channels."""
        channel = self.c.text(key, node)
        if channel is None:
            return None
        if channel not in CHANNELS:
            listing = "channels: " + ", ".join(CHANNELS)
            guess = did_you_mean(channel, CHANNELS)
            if guess:
                self.c.report(node, f"unknown channel {channel!r} (did you mean {guess!r}?)",
                              listing)
            else:
                self.c.report(node, f"unknown channel {channel!r} ({listing})")
            return None
        if own and channel not in self.channels:
            self.c.report(node, f"channel {channel!r} is not one of this playbook's channels "
                                f"({', '.join(self.channels)})",
                          "add it to `channels`, or use another")
            return None
        return channel

    def fallback(self, node: Node) -> Optional[tuple]:
        """`fallback: skip` (no other channel: the touch is skipped), or the channels to try,
        in order, when the touch's own cannot be used: each one of the playbook's."""
        from yaml.nodes import ScalarNode, SequenceNode

        if isinstance(node, ScalarNode) and node.value.strip() == "skip":
            return ()
        if isinstance(node, SequenceNode) and any(
                isinstance(item, ScalarNode) and item.value.strip() == "skip" for item in node.value):
            self.c.report(node, "`fallback` is `skip` or a list of channels, not both",
                          "`fallback: skip` skips the touch; `fallback: [letter]` tries a letter")
            return None
        return self.names("fallback", node, self.channel)

    def template(self, key: str, node: Node, channel: Optional[str]) -> Optional[str]:
        template = self.c.text(key, node)
        if template is not None and channel:
            self.check_template(node, template, channel)
        return template

    def check_template(self, where, template: str, channel: str) -> None:
        """SPEC section 6: `T.C.j2` if it exists, else `T.j2`."""
        if self.templates is None:
            return
        if f"{template}.{channel}" in self.templates or template in self.templates:
            return
        self.c.report(where, f"template {template!r} not found (looked for {self.folder}/"
                             f"{template}.{channel}.j2 and {self.folder}/{template}.j2)")

    # -- phases and steps ------------------------------------------------------------------

    def phases(self, node: Node) -> tuple:
        items = self.c.sequence("phases", node)
        if items is None:
            return ()
        if not items:
            self.c.report(node, "`phases` needs at least one phase")
        phases = []
        previous_until: Optional[Duration] = None
        for index, item in enumerate(items):
            phase = self.phase(item, index == len(items) - 1, previous_until)
            if phase is not None:
                phases.append(phase)
                previous_until = phase.until or previous_until
        return tuple(phases)

    def phase(self, node: Node, last: bool, previous_until: Optional[Duration]
              ) -> Optional[Phase]:
        fields = self.c.mapping(node, "a phase", PHASE_KEYS)
        if fields is None:
            return None
        values = {key: value for key, (_, value) in fields.items()}
        name = self.phase_name(node, values)
        label = name or "?"
        until = None
        if "until" in values:
            until = self.until(label, values["until"], previous_until)
        elif not last:
            self.c.report(node, f"phase {label!r} needs `until`: "
                                "only the last phase may go on for ever")
        if "steps" in values and "every" in values:
            self.c.report(fields["every"][0],
                          f"phase {label!r} has both `steps` and `every`: choose one")
            return None
        fallback = self.fallback(values["fallback"]) if "fallback" in values else None
        if "every" in values:
            if name is not None:
                self.periodic.add(name)
            phase = self.periodic_phase(node, name, until, fields)
            return phase if phase is None else replace(phase, fallback=fallback)
        if "steps" not in values:
            self.c.report(node, f"phase {label!r} needs `steps` or `every`")
            return None
        for key in ("channel", "template", "templates"):
            if key in fields:
                self.c.report(fields[key][0],
                              f"`{key}` belongs to a periodic phase (one with `every`)",
                              "give each step its own `channel` and `template`")
        steps = self.steps(name, until, values["steps"])
        if name is None:
            return None
        return Phase(name=name, until=until, steps=steps, source=source_of(node),
                     fallback=fallback)

    def phase_name(self, node: Node, values: dict) -> Optional[str]:
        if "name" not in values:
            self.c.report(node, "a phase needs a `name`")
            return None
        name = self.c.text("name", values["name"])
        if name is None:
            return None
        if name.lstrip().startswith(FORMULA_STARTS):  # its steps' ids are `<name>-<n>`
            self.c.report(values["name"], f"phase name {name!r} begins as a formula would",
                          _FORMULA_HINT)
            return None
        if name in self.phase_names:
            first = source_of(self.phase_names[name]).line
            self.c.report(values["name"], f"duplicate phase {name!r}",
                          f"the first is at line {first}")
            return None
        self.phase_names[name] = values["name"]
        return name

    def until(self, label: str, node: Node, previous: Optional[Duration]) -> Optional[Duration]:
        until = self.c.duration("until", node, nonzero=True)
        if until is None or previous is None:
            return until
        if not _later(until, previous):
            self.c.report(node, f"phase {label!r} `until` ({until}) must be later than the "
                                f"previous phase's ({previous})")
            return None
        return until

    def periodic_phase(self, node: Node, name: Optional[str], until: Optional[Duration],
                       fields: dict) -> Optional[Phase]:
        label = name or "?"
        every = self.c.duration("every", fields["every"][1], nonzero=True)
        channel = None
        if "channel" in fields:
            channel = self.channel("channel", fields["channel"][1])
        else:
            self.c.report(node, f"phase {label!r} needs a `channel` for `every`")
        templates = self.periodic_templates(node, label, fields, channel)
        if name is None or every is None or channel is None or templates is None:
            return None
        return Phase(name=name, until=until, every=every, channel=channel,
                     templates=templates, source=source_of(node))

    def periodic_templates(self, node: Node, label: str, fields: dict,
                           channel: Optional[str]) -> Optional[tuple]:
        if "template" in fields and "templates" in fields:
            self.c.report(fields["templates"][0],
                          f"phase {label!r} has both `template` and `templates`: choose one")
            return None
        if "template" in fields:
            template = self.template("template", fields["template"][1], channel)
            return None if template is None else (template,)
        if "templates" not in fields:
            self.c.report(node, f"phase {label!r} needs `template` or `templates`")
            return None
        value = fields["templates"][1]
        items = self.c.items("templates", value)
        if items is None:
            return None
        if not items:
            self.c.report(value, "`templates` must name at least one template")
            return None
        found = [self.template("templates", item, channel) for item in items]
        return None if None in found else tuple(found)

    def steps(self, phase: Optional[str], until: Optional[Duration], node: Node) -> tuple:
        items = self.c.sequence("steps", node)
        if items is None:
            return ()
        if not items:
            self.c.report(node, "`steps` needs at least one step")
        steps = []
        for number, item in enumerate(items, start=1):
            step = self.step(item, phase and f"{phase}-{number}", until)
            if step is not None:
                steps.append(step)
        return tuple(steps)

    def step(self, node: Node, default_id: Optional[str],
             until: Optional[Duration]) -> Optional[Step]:
        fields = self.c.mapping(node, "a step", STEP_KEYS)
        if fields is None:
            return None
        values = {key: value for key, (_, value) in fields.items()}
        step_id, id_node = default_id, node
        if "id" in values:
            id_node = values["id"]
            step_id = self.c.text("id", id_node)
            if step_id is not None and ("\n" in step_id or "\r" in step_id):
                # the journal's rows are one line each: the step would never be found again
                self.c.report(id_node, f"step id {step_id!r} holds a line break",
                              "a step's id is one line: take the line break out")
                step_id = None
            elif step_id is not None and step_id.lstrip().startswith(FORMULA_STARTS):
                self.c.report(id_node, f"step id {step_id!r} begins as a formula would",
                              _FORMULA_HINT)
                step_id = None
        if step_id is not None:
            self.step_ids.append((step_id, id_node))
        at = after = None
        if "at" in values and "after" in values:
            self.c.report(fields["after"][0], "a step has both `at` and `after`: choose one")
        elif "at" in values:
            at = self.c.duration("at", values["at"])
        elif "after" in values:
            after = self.c.duration("after", values["after"])
        else:
            self.c.report(node, "a step needs `at` or `after`")
        if at is not None and until is not None and _later(at, until):
            self.c.report(values["at"], f"step {step_id or '?'!r} at {at} is past its phase's "
                                        f"until ({until})")
        elif after is not None and until is not None and _later(after, until):
            # counted from the touch before it, made on or after the start: past the end
            self.c.report(values["after"], f"step {step_id or '?'!r} after {after} is past its "
                                           f"phase's until ({until})",
                          "it counts from the touch before it, made on or after the start: "
                          "a longer until, or a shorter wait")
        channel = template = None
        if "channel" in values:
            channel = self.channel("channel", values["channel"])
        else:
            self.c.report(node, "a step needs a `channel`")
        if "template" in values:
            template = self.template("template", values["template"], channel)
        else:
            self.c.report(node, "a step needs a `template`")
        fallback = self.fallback(values["fallback"]) if "fallback" in values else None
        if None in (step_id, channel, template) or (at is None and after is None):
            return None
        return Step(id=step_id, channel=channel, template=template, at=at, after=after,
                    source=source_of(node), fallback=fallback)

    def check_step_ids(self) -> None:
        """Ids are unique, and none can be mistaken for a rule's touch or a periodic touch."""
        periodic = sorted(self.periodic, key=len, reverse=True)
        pattern = re.compile(
            "^(" + "|".join(re.escape(name) for name in periodic) + r")-\d+$"
        ) if periodic else None
        first: dict[str, Node] = {}
        for step_id, node in self.step_ids:
            if step_id in first:
                line = source_of(first[step_id]).line
                self.c.report(node, f"duplicate step id {step_id!r} (first at line {line})")
                continue
            first[step_id] = node
            if step_id in RESERVED_IDS:
                self.c.report(node, f"step id {step_id!r} is reserved for touches made by rules",
                              "reserved: " + ", ".join(RESERVED_IDS))
            elif pattern is not None and (match := pattern.match(step_id)):
                self.c.report(node, f"step id {step_id!r} looks like a touch of periodic "
                                    f"phase {match.group(1)!r}", "choose another id")

    # -- rules -----------------------------------------------------------------------------

    def rules(self, node: Node) -> dict:
        items = self.c.sequence("rules", node)
        found: dict = {"no_reply": [], "if": []}
        first: dict[str, Node] = {}
        for item in items or ():
            fields = self.c.mapping(item, "a rule")
            if fields is None:
                continue
            kind = self.rule_kind(item, fields)
            if kind is None:
                continue
            fields = self.c.restrict(fields, RULE_KEYS[kind])
            values = {key: value for key, (_, value) in fields.items()}
            if kind in ("reply", "birthday") and kind in first:
                line = source_of(first[kind]).line
                self.c.report(fields[kind][0], f"only one `{kind}` rule",
                              f"the first is at line {line}")
                continue
            first[kind] = fields[kind][0]
            rule = getattr(self, "rule_" + kind)(item, values)
            if rule is None:
                continue
            if kind in found:
                found[kind].append(rule)
            else:
                found[kind] = rule
        return found

    def rule_kind(self, node: Node, fields: dict) -> Optional[str]:
        kinds = [key for key in fields if key in RULE_KEYS]
        if len(kinds) > 1:
            self.c.report(fields[kinds[1]][0],
                          f"a rule may have only one of {RULE_KINDS} (this one has "
                          f"`{kinds[0]}` and `{kinds[1]}`)")
            return None
        if kinds:
            return kinds[0]
        every_key = sorted({key for keys in RULE_KEYS.values() for key in keys})
        unknown = [key_node for key, (key_node, _) in fields.items() if key not in every_key]
        for key_node in unknown:
            self.c.unknown_key(key_node, every_key)
        if not unknown:
            self.c.report(node, f"a rule needs one of {RULE_KINDS}")
        return None

    def rule_no_reply(self, node: Node, values: dict) -> Optional[NoReply]:
        wait = self.c.duration("no_reply", values["no_reply"], nonzero=True)
        after = self.names("after", values.get("after"), self.after_channel)
        phases = self.names("in", values.get("in"), self.known_phase)
        then = template = None
        if "then" in values:
            then = self.channel("then", values["then"])
        else:
            self.c.report(node, "a `no_reply` rule needs `then`")
        if "template" in values:
            template = self.template("template", values["template"], then)
        else:
            self.c.report(node, "a `no_reply` rule needs a `template`")
        fallback = self.fallback(values["fallback"]) if "fallback" in values else None
        if None in (wait, after, phases, then, template):
            return None
        return NoReply(wait=wait, then=then, template=template, after=after, phases=phases,
                       source=source_of(node), fallback=fallback)

    def names(self, key: str, node: Optional[Node], check) -> Optional[tuple]:
        """A list (or a single name) checked item by item; absent or empty: ()."""
        if node is None:
            return ()
        items = self.c.items(key, node)
        if items is None:
            return None
        found = [check(key, item) for item in items]
        return None if None in found else tuple(found)

    def after_channel(self, key: str, node: Node) -> Optional[str]:
        return self.channel(key, node)

    def known_phase(self, key: str, node: Node) -> Optional[str]:
        name = self.c.text(key, node)
        if name is None or name in self.phase_names:
            return name
        guess = did_you_mean(name, self.phase_names)
        if guess:
            self.c.report(node, f"unknown phase {name!r} (did you mean {guess!r}?)")
        else:
            self.c.report(node, f"unknown phase {name!r} "
                                f"(phases: {', '.join(self.phase_names)})")
        return None

    def rule_reply(self, node: Node, values: dict) -> Optional[OnReply]:
        value_node = values["reply"]
        text = self.c.text("reply", value_node)
        if text is None:
            return None
        action, _, rest = text.strip().partition(" ")
        rest = rest.strip()
        source = source_of(value_node)  # where a `move` to a missing playbook is shown
        if action in ("stop", "continue") and not rest:
            return OnReply(action=action, source=source)
        if action == "pause" and rest:
            return self.pause(value_node, rest, source)
        if action == "move" and rest:
            return OnReply("move", playbook=rest, source=source)
        self.c.report(value_node, f"`reply` must be stop, continue, pause <duration> or "
                                  f"move <playbook>, got {text!r}")
        return None

    def pause(self, node: Node, text: str, source: Source) -> Optional[OnReply]:
        try:
            duration = parse_duration(text)
        except ValueError as error:
            self.c.report(node, f"`reply: pause`: {error}")
            return None
        if not (duration.days or duration.months):
            self.c.report(node, "`reply: pause` cannot be zero")
            return None
        return OnReply("pause", duration=duration, source=source)

    def rule_if(self, node: Node, values: dict) -> Optional[If]:
        expr = self.c.text("if", values["if"])
        if expr is not None and self.check_expr is not None:
            error = self.check_expr(expr)
            if error:
                self.c.report(values["if"], f"invalid expression in `if`: {error}")
                expr = None
        channel = None
        if "channel" in values:
            channel = self.channel("channel", values["channel"])
        else:
            self.c.report(node, "an `if` rule needs a `channel`")
        if expr is None or channel is None:
            return None
        return If(expr=expr, channel=channel, source=source_of(node))

    def rule_birthday(self, node: Node, values: dict) -> Optional[Birthday]:
        channel = self.channel("birthday", values["birthday"])
        if "template" in values:
            template = self.template("template", values["template"], channel)
        else:
            template = "birthday"
            if channel:
                self.check_template(values["birthday"], template, channel)
        fallback = self.fallback(values["fallback"]) if "fallback" in values else None
        if channel is None or template is None:
            return None
        return Birthday(channel=channel, template=template, source=source_of(node),
                        fallback=fallback)
