"""The frame cadence writes around the drafts in the book's language (README, "In the book's
language"): call sheets, the day's index.md and calls.ics, by `locale:`."""
from __future__ import annotations

import pytest
from icalendar import Calendar

from cadence.labels import LANGUAGES, Words
from smallbook import TODAY, build, invoke

LATE_DAY = "2026-11-06"  # Ann's call-back (2026-11-04 14:30) and Bob's decide-2 call, 2 days late

SHEETS = {
    "sv": """\
# Samtal: Ann Lind

- Telefon: +46701234567
- När: 2026-11-04 kl. 14:30 (2 dagar för sent)
- Varför: överenskommet samtal 2026-11-04 kl. 14:30
- Playbook: p / decide / callback
- Company: Lind AB

## Senaste samtalsämnen

- 2026-11-01 anteckning: wants a quote
- 2026-11-01 samtal: met at the fair

## Manus

Call Ann Lind back.
""",
    "ru": """\
# Звонок: Ann Lind

- Телефон: +46701234567
- Когда: 2026-11-04 в 14:30 (просрочено на 2 дня)
- Повод: договорились созвониться 2026-11-04 в 14:30
- Сценарий: p / decide / callback
- Company: Lind AB

## Последние темы

- 2026-11-01 заметка: wants a quote
- 2026-11-01 звонок: met at the fair

## Скрипт

Call Ann Lind back.
""",
    "uk": """\
# Дзвінок: Ann Lind

- Телефон: +46701234567
- Коли: 2026-11-04 о 14:30 (прострочено на 2 дні)
- Привід: домовилися зателефонувати 2026-11-04 о 14:30
- Сценарій: p / decide / callback
- Company: Lind AB

## Останні теми

- 2026-11-01 нотатка: wants a quote
- 2026-11-01 дзвінок: met at the fair

## Скрипт

Call Ann Lind back.
""",
    "en": """\
# Call: Ann Lind

- Phone: +46701234567
- When: 2026-11-04 at 14:30 (2 days late)
- Why: call-back agreed for 2026-11-04 at 14:30
- Playbook: p / decide / callback
- Company: Lind AB

## Last topics

- 2026-11-01 note: wants a quote
- 2026-11-01 touch call: met at the fair

## Script

Call Ann Lind back.
""",
}

INDEXES = {
    "sv": """\
# Utkast för 2026-11-06

2 uppföljningar: 2 samtal. Samtalen finns i calls.ics, att importera i din kalender.

## Samtal (2)

- 14:30 · [Ann Lind](c1--callback.md) · +46701234567 · överenskommet samtal 2026-11-04 kl. 14:30 · 2 dagar för sent · `callback`
- när som helst · [Bob Berg](c2--decide-2.md) · +46709876543 · steg decide-2 i p · 2 dagar för sent · `call`
""",
    "ru": """\
# Черновики на 2026-11-06

2 касания: 2 звонка. Звонки есть в calls.ics, для импорта в календарь.

## Звонки (2)

- 14:30 · [Ann Lind](c1--callback.md) · +46701234567 · договорились созвониться 2026-11-04 в 14:30 · просрочено на 2 дня · `callback`
- в любое время · [Bob Berg](c2--decide-2.md) · +46709876543 · шаг decide-2 сценария p · просрочено на 2 дня · `call`
""",
    "uk": """\
# Чернетки на 2026-11-06

2 дотики: 2 дзвінки. Дзвінки є в calls.ics, для імпорту в календар.

## Дзвінки (2)

- 14:30 · [Ann Lind](c1--callback.md) · +46701234567 · домовилися зателефонувати 2026-11-04 о 14:30 · прострочено на 2 дні · `callback`
- будь-коли · [Bob Berg](c2--decide-2.md) · +46709876543 · крок decide-2 сценарію p · прострочено на 2 дні · `call`
""",
    "en": """\
# Drafts for 2026-11-06

2 touches: 2 calls. The calls are in calls.ics, to import into your calendar.

## Calls (2)

- 14:30 · [Ann Lind](c1--callback.md) · +46701234567 · call-back agreed for 2026-11-04 at 14:30 · 2 days late · `callback`
- any time · [Bob Berg](c2--decide-2.md) · +46709876543 · step decide-2 of p · 2 days late · `call`
""",
}

EVENTS = {
    "sv": ("Samtal 2026-11-06", "Ring Ann Lind (+46701234567)", "Samtalsunderlag: c1--callback.md"),
    "ru": ("Звонки 2026-11-06", "Позвонить: Ann Lind (+46701234567)", "Лист звонка: c1--callback.md"),
    "uk": ("Дзвінки 2026-11-06", "Зателефонувати: Ann Lind (+46701234567)",
           "Аркуш дзвінка: c1--callback.md"),
    "en": ("Calls 2026-11-06", "Call Ann Lind (+46701234567)", "Call sheet: c1--callback.md"),
}


def _book(tmp_path, locale: str) -> str:
    config = "sender:\n  name: Eva Konsult\n  email: eva@konsult.example\n"
    root = build(tmp_path, {
        "cadence.yaml": (f"locale: {locale}\n" if locale else "") + config,
        "contacts.csv": "id,name,email,phone,playbook,started,callback,Company\n"
                        "c1,Ann Lind,ann@example.com,+46701234567,p,2026-11-01,2026-11-04T14:30,Lind AB\n"
                        "c2,Bob Berg,,+46709876543,p,2026-11-01,,\n",
        "templates/callback.j2": "Call {{ contact.name }} back.\n",
        "history.csv": "date,contact,event,playbook,step,channel,template,note\n"
                       "2026-11-01,c1,note,p,,,,wants a quote\n"
                       "2026-11-01,c1,touch,p,,call,,met at the fair\n",
    })
    for day in (TODAY, LATE_DAY):
        result = invoke("-C", root, "run", "--today", day)
        assert result.exit_code == 0, result.output
    return root


@pytest.mark.parametrize("locale, language", [("sv", "sv"), ("ru_RU", "ru"), ("uk", "uk"),
                                              ("", "en"), ("de", "en")])
def test_the_frame_of_a_days_drafts_is_in_the_books_language(tmp_path, locale, language):
    """A call sheet, index.md and calls.ics of a book with `locale:`; English for a language
    cadence has no words for, and without one."""
    day = tmp_path / "drafts" / LATE_DAY
    _book(tmp_path, locale)
    assert (day / "c1--callback.md").read_text(encoding="utf-8") == SHEETS[language]
    assert (day / "index.md").read_text(encoding="utf-8") == INDEXES[language]
    calendar = Calendar.from_ical((day / "calls.ics").read_bytes())
    name, summary, sheet = EVENTS[language]
    assert str(calendar["X-WR-CALNAME"]) == name
    first = calendar.walk("VEVENT")[0]
    assert str(first["SUMMARY"]) == summary and str(first["DESCRIPTION"]).endswith(sheet)
    assert str(first.walk("VALARM")[0]["DESCRIPTION"]) == summary


@pytest.mark.parametrize("language, n, touches, calls, late", [
    ("en", 1, "1 touch", "1 call", "1 day late"),
    ("en", 2, "2 touches", "2 calls", "2 days late"),
    ("sv", 1, "1 uppföljning", "1 samtal", "1 dag för sent"),
    ("sv", 5, "5 uppföljningar", "5 samtal", "5 dagar för sent"),
    ("ru", 1, "1 касание", "1 звонок", "просрочено на 1 день"),
    ("ru", 3, "3 касания", "3 звонка", "просрочено на 3 дня"),
    ("ru", 5, "5 касаний", "5 звонков", "просрочено на 5 дней"),
    ("ru", 11, "11 касаний", "11 звонков", "просрочено на 11 дней"),
    ("ru", 21, "21 касание", "21 звонок", "просрочено на 21 день"),
    ("ru", 22, "22 касания", "22 звонка", "просрочено на 22 дня"),
    ("uk", 1, "1 дотик", "1 дзвінок", "прострочено на 1 день"),
    ("uk", 4, "4 дотики", "4 дзвінки", "прострочено на 4 дні"),
    ("uk", 12, "12 дотиків", "12 дзвінків", "прострочено на 12 днів"),
])
def test_counts_follow_the_languages_plural_rules(language, n, touches, calls, late):
    words = Words(language)
    assert words.count(words["touches"], n) == touches
    assert words.count(words["counts"]["call"], n) == calls
    assert words.late(n) == late


@pytest.mark.parametrize("language, note, said", [
    ("sv", "no reply since 2026-11-18 (email)", "inget svar sedan 2026-11-18 (e-post)"),
    ("ru", "no reply since 2026-11-18 (email)", "нет ответа с 2026-11-18 (эл. почта)"),
    ("uk", "no reply since 2026-11-18 (letter)", "немає відповіді з 2026-11-18 (паперовий лист)"),
    # a rule's touch made by another channel, and numbered (candidates.py, ladder.named)
    ("sv", "no reply since 2026-11-18 (email); by letter instead of call",
     "inget svar sedan 2026-11-18 (e-post); med brev i stället för samtal"),
    ("ru", "no reply since 2026-11-18 (email); by letter instead of call; no_reply rule 2",
     "нет ответа с 2026-11-18 (эл. почта); «бумажное письмо» вместо «звонок»; "
     "правило no_reply № 2"),
    ("uk", "the email of 2026-11-18 bounced on 2026-11-19",
     "лист від 2026-11-18 повернувся 2026-11-19"),
    ("sv", "the email of 2026-11-18 went to an address that bounced on 2026-11-10",
     "mejlet från 2026-11-18 gick till en adress som studsade 2026-11-10"),
    # a part cadence has no words for stays as the journal has it, the rest is said
    ("sv", "no reply since 2026-11-18 (email); wants it by fax",
     "inget svar sedan 2026-11-18 (e-post); wants it by fax"),
    ("ru", "call-back agreed for 2026-12-03", "договорились созвониться 2026-12-03"),
    ("uk", "call-back agreed for 2026-12-03 at 09:15",
     "домовилися зателефонувати 2026-12-03 о 09:15"),
    ("sv", "birthday on 2026-03-17", "födelsedag 2026-03-17"),
    ("ru", "birthday on 2026-03-17", "день рождения 2026-03-17"),
    # a reason cadence has no words for, as the journal has it
    ("ru", "wants a quote", "wants a quote"),
    ("en", "no reply since 2026-11-18 (email)", "no reply since 2026-11-18 (email)"),
    ("uk", "", "крок decide-2 сценарію new-lead"),
    ("sv", "", "steg decide-2 i new-lead"),
])
def test_the_reason_of_a_touch_is_said_in_the_books_language(language, note, said):
    assert Words(language).why(note, "decide-2", "new-lead") == said


@pytest.mark.parametrize("language, event, channel, said", [
    ("en", "touch", "call", "touch call"), ("en", "note", "", "note"),
    ("sv", "touch", "call", "samtal"), ("sv", "reply", "email", "svar e-post"),
    ("sv", "touch", "", "uppföljning"),
    ("ru", "touch", "letter", "бумажное письмо"), ("ru", "note", "", "заметка"),
    ("uk", "reply", "sms", "відповідь SMS"), ("uk", "touch", "", "дотик"),
])
def test_a_row_of_the_last_topics_is_named_in_the_books_language(language, event, channel, said):
    assert Words(language).row_kind(event, channel) == said


@pytest.mark.parametrize("locale, language", [("sv_SE", "sv"), ("ru-RU", "ru"), ("UK", "uk"),
                                              ("pt_BR", "en"), ("", "en"), ("sv_FI", "sv"),
                                              # what cadence.yaml's check accepts (Babel)
                                              ("sv.UTF-8", "sv"), ("sv@euro", "sv"),
                                              ("swe", "sv"), ("ru_RU.UTF-8", "ru")])
def test_a_locale_picks_its_language(locale, language):
    assert Words(locale).language == language


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_every_language_has_every_word_english_has(language):
    """A word missing in one language would be a KeyError on some morning: each language has
    every key, every channel, and the forms its counts need."""
    english, other = LANGUAGES["en"], LANGUAGES[language]
    assert set(other) == set(english)
    for key in ("call_sheet", "groups", "counts"):  # by channel
        assert set(other[key]) == set(english[key]), key
    for forms in list(other["counts"].values()) + [other["touches"], other["late"]]:
        assert "other" in forms and set(forms) <= {"one", "few", "many", "other"}
    words = Words(language)
    for n in range(0, 112):
        for forms in list(other["counts"].values()) + [other["touches"], other["late"]]:
            assert str(n) in words.count(forms, n)
    for key in ("drafts_for", "calendar"):
        assert "2026-11-06" in words.say(key, day="2026-11-06")
