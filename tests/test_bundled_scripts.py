"""The bundled call scripts say only what the journal shows happened: a contact cadence could
reach by phone alone is not asked about "my email" or "the proposal I sent" (the pigeon-post
problem the other way round: claiming a message that never went)."""
from __future__ import annotations

import pytest

from smallbook import invoke

# a weekday run on each day new-lead has a step for (enrolled on 2026-11-02)
DAYS = ("2026-11-02", "2026-11-03", "2026-11-05", "2026-11-09", "2026-11-11", "2026-11-16",
        "2026-11-18", "2026-11-20")

SHEETS = {
    # language: (the sheet's header line, what the phone-only contact's questions call asks,
    #            what the emailed one's asks, what the offer call says with no proposal sent,
    #            what it says of the proposal emailed on 2026-11-20)
    "en": ("Name,Email,Phone",
           "ten minutes for a few questions about how you follow up on enquiries?",
           "ten minutes for the questions I mentioned in my email?",
           "The journal shows no proposal sent to them",
           "The proposal went out on 20 November by email. You do not know whether it arrived"),
    "sv": ("Namn,E-post,Telefon",
           "tio minuter för några frågor om hur ni följer upp förfrågningar?",
           "tio minuter för frågorna jag nämnde i mitt mejl?",
           "Journalen visar inget förslag skickat till kunden",
           "Förslaget skickades den 20 november med e-post. Du vet inte om det kommit fram"),
    "ru": ("Имя,Email,Телефон",
           "десять минут на несколько вопросов о том, как у Вас работают с заявками?",
           "десять минут на вопросы, о которых шла речь в письме?",
           "В журнале нет отправленного клиенту предложения",
           "Предложение ушло 20 ноября, по электронной почте. Дошло ли оно, неизвестно"),
}


@pytest.mark.parametrize("language", sorted(SHEETS))
def test_a_phone_only_contact_is_not_told_of_mail_it_never_got(tmp_path, language):
    header, asked, asked_by_mail, no_offer, offered = SHEETS[language]
    sheet = tmp_path / "contacts.csv"
    sheet.write_text(f"{header}\nPer Lund,,+46701112233\nEva Berg,eva@berg.se,+46702223344\n",
                     encoding="utf-8")
    book = tmp_path / "book"
    done = invoke("init", book, "--from", sheet)
    assert done.exit_code == 0, done.output
    for day in DAYS:
        done = invoke("-C", book, "run", "--today", day)
        assert done.exit_code == 0, done.output
    drafts = book / "drafts"
    questions = (drafts / "2026-11-09" / "per-lund--decide-3.md").read_text(encoding="utf-8")
    assert asked in questions and asked_by_mail not in questions
    offer_call = (drafts / "2026-11-18" / "per-lund--offer-call.md").read_text(encoding="utf-8")
    assert no_offer in offer_call
    # Eva was written to: her questions call says so
    emailed = [p for p in drafts.rglob("eva-berg--decide-3.md")]
    assert len(emailed) == 1 and asked_by_mail in emailed[0].read_text(encoding="utf-8")
    # and her offer call, the proposal emailed to her, starts from it as before
    shown = invoke("-C", book, "render", "eva-berg", "--step", "offer-call", "--today",
                   "2026-11-30")
    assert shown.exit_code == 0, shown.output
    assert offered in shown.stdout and no_offer not in shown.stdout
    if language == "en":  # asked of a proposal they have, and of one just presented
        assert '2. "What did you think?' in shown.stdout
        assert '2. "What do you think?' in offer_call
