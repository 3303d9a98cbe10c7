"""The words cadence writes around the drafts (a call sheet's headings, the day's `index.md`,
`calls.ics`) in the book's language: English, Swedish, Russian or Ukrainian, by `locale:`.

The templates hold the user's own words; these are the frame cadence puts around them. A
`locale:` of another language, or none, gives English. The reasons a touch came (`no reply
since 2026-11-18 (email)`) are the journal's words: the common ones are said in the book's
language, anything else as the journal has it.
"""
from __future__ import annotations

import re
from typing import Mapping

# a count's word by its plural category (CLDR, as Babel knows it): `one`, `few`, `many`, `other`
_EN = {
    "call_sheet": {"call": "Call", "sms": "Text message", "messenger": "Messenger message"},
    "phone": "Phone", "when": "When", "at": "at {time}", "why": "Why", "playbook": "Playbook",
    "none": "(none)", "last_topics": "Last topics", "script": "Script",
    "late": {"one": "{n} day late", "other": "{n} days late"},
    "drafts_for": "Drafts for {day}",
    "touches": {"one": "{n} touch", "other": "{n} touches"},
    "counts": {
        "call": {"one": "{n} call", "other": "{n} calls"},
        "sms": {"one": "{n} text message", "other": "{n} text messages"},
        "messenger": {"one": "{n} messenger message", "other": "{n} messenger messages"},
        "email": {"one": "{n} email", "other": "{n} emails"},
        "letter": {"one": "{n} letter", "other": "{n} letters"},
    },
    "groups": {"call": "Calls", "sms": "Text messages", "messenger": "Messenger messages",
               "email": "Emails", "letter": "Letters"},
    "calendar_hint": "The calls are in {file}, to import into your calendar.",
    "any_time": "any time",
    "calendar": "Calls {day}", "call_event": "Call {name}", "sheet_file": "Call sheet: {file}",
    "step": "step {step} of {playbook}",
    "no_reply": "no reply since {day} ({channel})",
    "callback": "call-back agreed for {day}", "callback_at": "call-back agreed for {day} at {time}",
    "birthday": "birthday on {day}",
    "bounced": "the email of {day} bounced on {bounce}",
    "bounced_before": "the email of {day} went to an address that bounced on {bounce}",
    "fell_back": "by {channel} instead of {meant}",
    "rule": "no_reply rule {n}",
    "events": {"touch": "touch", "reply": "reply", "note": "note"},
    "channels": {"email": "email", "call": "call", "sms": "sms", "messenger": "messenger",
                 "letter": "letter"},
}

_SV = {
    "call_sheet": {"call": "Samtal", "sms": "Sms", "messenger": "Meddelande"},
    "phone": "Telefon", "when": "När", "at": "kl. {time}", "why": "Varför",
    "playbook": "Playbook", "none": "(inget)", "last_topics": "Senaste samtalsämnen",
    "script": "Manus",
    "late": {"one": "{n} dag för sent", "other": "{n} dagar för sent"},
    "drafts_for": "Utkast för {day}",
    "touches": {"one": "{n} uppföljning", "other": "{n} uppföljningar"},
    "counts": {
        "call": {"other": "{n} samtal"},
        "sms": {"other": "{n} sms"},
        "messenger": {"one": "{n} meddelande", "other": "{n} meddelanden"},
        "email": {"other": "{n} mejl"},
        "letter": {"other": "{n} brev"},
    },
    "groups": {"call": "Samtal", "sms": "Sms", "messenger": "Meddelanden", "email": "Mejl",
               "letter": "Brev"},
    "calendar_hint": "Samtalen finns i {file}, att importera i din kalender.",
    "any_time": "när som helst",
    "calendar": "Samtal {day}", "call_event": "Ring {name}",
    "sheet_file": "Samtalsunderlag: {file}",
    "step": "steg {step} i {playbook}",
    "no_reply": "inget svar sedan {day} ({channel})",
    "callback": "överenskommet samtal {day}",
    "callback_at": "överenskommet samtal {day} kl. {time}",
    "birthday": "födelsedag {day}",
    "bounced": "mejlet från {day} studsade {bounce}",
    "bounced_before": "mejlet från {day} gick till en adress som studsade {bounce}",
    "fell_back": "med {channel} i stället för {meant}",
    "rule": "no_reply-regel {n}",
    "events": {"touch": "uppföljning", "reply": "svar", "note": "anteckning"},
    "channels": {"email": "e-post", "call": "samtal", "sms": "sms", "messenger": "messenger",
                 "letter": "brev"},
}

_RU = {
    "call_sheet": {"call": "Звонок", "sms": "SMS", "messenger": "Сообщение"},
    "phone": "Телефон", "when": "Когда", "at": "в {time}", "why": "Повод",
    "playbook": "Сценарий", "none": "(нет)", "last_topics": "Последние темы",
    "script": "Скрипт",
    "late": {"one": "просрочено на {n} день", "few": "просрочено на {n} дня",
             "other": "просрочено на {n} дней"},
    "drafts_for": "Черновики на {day}",
    "touches": {"one": "{n} касание", "few": "{n} касания", "other": "{n} касаний"},
    "counts": {
        "call": {"one": "{n} звонок", "few": "{n} звонка", "other": "{n} звонков"},
        "sms": {"other": "{n} SMS"},
        "messenger": {"one": "{n} сообщение", "few": "{n} сообщения", "other": "{n} сообщений"},
        "email": {"one": "{n} письмо", "few": "{n} письма", "other": "{n} писем"},
        "letter": {"one": "{n} бумажное письмо", "few": "{n} бумажных письма",
                   "other": "{n} бумажных писем"},
    },
    "groups": {"call": "Звонки", "sms": "SMS", "messenger": "Сообщения", "email": "Письма",
               "letter": "Бумажные письма"},
    "calendar_hint": "Звонки есть в {file}, для импорта в календарь.",
    "any_time": "в любое время",
    "calendar": "Звонки {day}", "call_event": "Позвонить: {name}",
    "sheet_file": "Лист звонка: {file}",
    "step": "шаг {step} сценария {playbook}",
    "no_reply": "нет ответа с {day} ({channel})",
    "callback": "договорились созвониться {day}",
    "callback_at": "договорились созвониться {day} в {time}",
    "birthday": "день рождения {day}",
    "bounced": "письмо от {day} вернулось {bounce}",
    "bounced_before": "письмо от {day} ушло на адрес, с которого был возврат {bounce}",
    "fell_back": "«{channel}» вместо «{meant}»",
    "rule": "правило no_reply № {n}",
    "events": {"touch": "касание", "reply": "ответ", "note": "заметка"},
    "channels": {"email": "эл. почта", "call": "звонок", "sms": "SMS", "messenger": "мессенджер",
                 "letter": "бумажное письмо"},
}

_UK = {
    "call_sheet": {"call": "Дзвінок", "sms": "SMS", "messenger": "Повідомлення"},
    "phone": "Телефон", "when": "Коли", "at": "о {time}", "why": "Привід",
    "playbook": "Сценарій", "none": "(немає)", "last_topics": "Останні теми",
    "script": "Скрипт",
    "late": {"one": "прострочено на {n} день", "few": "прострочено на {n} дні",
             "other": "прострочено на {n} днів"},
    "drafts_for": "Чернетки на {day}",
    "touches": {"one": "{n} дотик", "few": "{n} дотики", "other": "{n} дотиків"},
    "counts": {
        "call": {"one": "{n} дзвінок", "few": "{n} дзвінки", "other": "{n} дзвінків"},
        "sms": {"other": "{n} SMS"},
        "messenger": {"one": "{n} повідомлення", "few": "{n} повідомлення",
                      "other": "{n} повідомлень"},
        "email": {"one": "{n} лист", "few": "{n} листи", "other": "{n} листів"},
        "letter": {"one": "{n} паперовий лист", "few": "{n} паперові листи",
                   "other": "{n} паперових листів"},
    },
    "groups": {"call": "Дзвінки", "sms": "SMS", "messenger": "Повідомлення", "email": "Листи",
               "letter": "Паперові листи"},
    "calendar_hint": "Дзвінки є в {file}, для імпорту в календар.",
    "any_time": "будь-коли",
    "calendar": "Дзвінки {day}", "call_event": "Зателефонувати: {name}",
    "sheet_file": "Аркуш дзвінка: {file}",
    "step": "крок {step} сценарію {playbook}",
    "no_reply": "немає відповіді з {day} ({channel})",
    "callback": "домовилися зателефонувати {day}",
    "callback_at": "домовилися зателефонувати {day} о {time}",
    "birthday": "день народження {day}",
    "bounced": "лист від {day} повернувся {bounce}",
    "bounced_before": "лист від {day} пішов на адресу, з якої було повернення {bounce}",
    "fell_back": "«{channel}» замість «{meant}»",
    "rule": "правило no_reply № {n}",
    "events": {"touch": "дотик", "reply": "відповідь", "note": "нотатка"},
    "channels": {"email": "ел. пошта", "call": "дзвінок", "sms": "SMS", "messenger": "месенджер",
                 "letter": "паперовий лист"},
}

LANGUAGES = {"en": _EN, "sv": _SV, "ru": _RU, "uk": _UK}

# the reasons the engine journals (candidates.py, ladder.py), as the frame says them in another
# language: a note's parts, split at "; ", each said in words when it is one of these
_DAY = r"\d{4}-\d{2}-\d{2}"
_REASONS = tuple((key, re.compile(pattern)) for key, pattern in (
    ("no_reply", rf"no reply since (?P<day>{_DAY}) \((?P<channel>[^)]*)\)"),
    ("callback_at", rf"call-back agreed for (?P<day>{_DAY}) at (?P<time>\d{{2}}:\d{{2}})"),
    ("callback", rf"call-back agreed for (?P<day>{_DAY})"),
    ("birthday", rf"birthday on (?P<day>{_DAY})"),
    ("bounced", rf"the email of (?P<day>{_DAY}) bounced on (?P<bounce>{_DAY})"),
    ("bounced_before", rf"the email of (?P<day>{_DAY}) went to an address that bounced on "
                       rf"(?P<bounce>{_DAY})"),
    ("fell_back", r"by (?P<channel>\w+) instead of (?P<meant>\w+)"),
    ("rule", r"no_reply rule (?P<n>\d+)"),
))


def _language(locale: str) -> str:
    """The language of a locale as Babel reads it (`sv_SE`, `sv.UTF-8`, `swe`: `sv`), as
    cadence.yaml's `locale:` is checked; "" for none."""
    if not locale:
        return ""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(locale.strip().replace("-", "_")).language
    except (UnknownLocaleError, ValueError, TypeError):
        return re.split(r"[_\-.@]", locale.strip(), maxsplit=1)[0].lower()


class Words:
    """The frame's words in one language (`Words("sv_SE")`); English when cadence has none of
    that language."""

    def __init__(self, locale: str = ""):
        language = _language(locale)
        self.language = language if language in LANGUAGES else "en"
        self._words = LANGUAGES[self.language]
        self._plural = None  # Babel's plural rule of the language, once one is counted

    def __getitem__(self, key: str):
        return self._words[key]

    def say(self, key: str, **values) -> str:
        return self._words[key].format(**values)

    def count(self, forms: Mapping[str, str], n: int) -> str:
        """`forms` for `n` (`{n} touches`), by the language's plural rules."""
        category = "one" if n == 1 else "other"
        if self.language in ("ru", "uk"):  # `few` and `many` too
            if self._plural is None:
                from babel import Locale

                self._plural = Locale.parse(self.language).plural_form
            category = self._plural(n)
        return (forms.get(category) or forms["other"]).format(n=n)

    def event(self, event: str) -> str:
        """A journal event (`touch`, `reply`, `note`) or channel (`email`) in words; another
        word as it is."""
        return self._words["events"].get(event) or self._words["channels"].get(event, event)

    def row_kind(self, event: str, channel: str) -> str:
        """What a journal row of the last topics was: `touch call` (in English as the journal
        says it), `samtal` (a touch by call is a call), `svar e-post`."""
        if self.language == "en":
            return " ".join(filter(None, (event, channel)))
        if event == "touch" and channel:
            return self.event(channel)
        return " ".join(self.event(w) for w in (event, channel) if w)

    def late(self, days: int) -> str:
        return self.count(self._words["late"], days)

    def why(self, note: str, step: str, playbook: str) -> str:
        """Why a touch came: its journal note (the engine's reason), or its step."""
        if not note:
            return self.say("step", step=step, playbook=playbook)
        if self.language == "en":
            return note
        return "; ".join(self._reason(part) for part in note.split("; "))

    def _reason(self, part: str) -> str:
        for key, pattern in _REASONS:
            found = pattern.fullmatch(part)
            if found:
                values = found.groupdict()
                for name in ("channel", "meant"):
                    if name in values:
                        values[name] = self.event(values[name])
                return self.say(key, **values)
        return part
