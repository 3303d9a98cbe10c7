"""What `cadence init --from FILE` guesses about someone else's spreadsheet: which of its headers
are cadence's columns, how it writes dates, whether it has ids. Pure: a parsed LedgerFile in,
the guess and the words that say it out."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import CHANNELS, STATUSES, email_problem
from .sheet_dates import DateFormat, date_format

# cadence's column -> the headers that mean it (compared lower case, without spaces, dots,
# dashes and underscores), in the languages the bundled playbooks speak and a few more
SYNONYMS = {
    "id": ("id", "kundid", "kundnr", "kundnummer", "customerid", "contactid", "kontaktid",
           "kundennummer"),
    "name": ("name", "fullname", "namn", "fulltnamn", "kontakt", "contact", "contactname",
             "kontaktperson", "vollständigername", "имя", "фио", "nom", "nombre", "nome",
             # a first name greets as well as a full one (an Outlook or Google contacts export)
             "firstname", "givenname", "förnamn", "vorname", "prénom", "імя", "піб",
             "прізвищеімя", "прізвищеімяпобатькові", "повнеімя"),
    # (Google Contacts exports `E-mail 1 - Value`, `Phone 1 - Value`, `Address 1 - Formatted`)
    "email": ("email", "emailaddress", "mail", "epost", "epostadress", "emailadresse",
              "mailadresse", "почта", "электроннаяпочта", "элпочта", "емейл", "имейл",
              "пошта", "електроннапошта", "елпошта", "courriel", "correo", "email1value",
              "emailaddress1", "email1"),
    "phone": ("phone", "phonenumber", "telephone", "tel", "telefon", "telefonnummer", "mobil",
              "mobile", "mobilnummer", "mobilephone", "mobiltelefon", "mobilnr", "tfn", "cell",
              "cellphone", "телефон", "мобильный", "мобильныйтелефон", "мобільний",
              "мобільнийтелефон", "телефонмобільний", "мобтелефон",
              "номертелефону", "номертелефона", "téléphone", "teléfono", "telefone",
              "phone1value", "primaryphone", "businessphone", "homephone"),
    "address": ("address", "adress", "adresse", "postaladdress", "postadress", "anschrift",
                "адрес", "адреса", "dirección", "endereço", "address1formatted"),
    "birthday": ("birthday", "birthdate", "dateofbirth", "dob", "födelsedag", "födelsedatum",
                 "geburtstag", "geburtsdatum", "деньрождения", "датарождения",
                 "деньнародження", "датанародження", "anniversaire", "cumpleaños"),
    # not one of cadence's columns: the bundled playbooks' `if` rule reads `contact.age`
    "age": ("age", "ålder", "alder", "возраст", "вік", "alter", "âge", "edad", "idade"),
    "playbook": ("playbook",),
    "status": ("status",),
    "channels": ("channels", "kanaler"),
    "optout": ("optout",),
    "callback": ("callback",),
    "started": ("started",),
    "last_reply": ("lastreply",),
}

_SHAPES = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$"), ("Y", "m", "d"), "-"),
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?: .*)?$"), ("d", "m", "Y"), "."),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: .*)?$"), ("?", "?", "Y"), "/"),
    (re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})(?: .*)?$"), ("d", "m", "Y"), "-"),
)


def _all_emails(held: list, rows) -> bool:
    """A column of the contacts' email addresses: most rows hold one, every value is one, and
    not one and the same in every row (the owner's own, a shared inbox)."""
    return len(held) * 2 >= len(rows) and all(not email_problem(c) for c in held) and (
        len(rows) == 1 or len(set(held)) > 1)


def _key(header: str) -> str:
    """A header as SYNONYMS lists it: lower case, without spaces, commas, dots, dashes,
    underscores and apostrophes, however typed (`Ім'я`, `Ім’я` as autocorrect writes it,
    `Імʼя` with the Ukrainian apostrophe, `Імя` without one)."""
    return re.sub(r"[\s,._\-'’‘ʼ`´]+", "", header.strip().lower())


@dataclass(frozen=True, slots=True)
class Guess:
    """What the sheet looks like to cadence."""

    columns: tuple  # ((cadence column, the sheet's header), ...) of headers to map
    dates: DateFormat  # the format its dates are written in (ISO when it has none)
    date_sample: str  # a cell it was seen in, "" when none
    ambiguous: bool  # dates such as 03/04/2026 only: day or month first cannot be told
    has_ids: bool  # an id in every row
    has_playbook: bool
    rows: int
    has_names: bool = True
    id_column: bool = False  # a column of ids (some rows may lack one)
    reaches: bool = True  # a column of email addresses, phone numbers or postal addresses
    language: str = ""  # the language of the headers, when it has bundled playbooks: sv, ru
    other_language: str = ""  # the headers' language when no bundled playbook speaks it: uk
    surname: str = ""  # a column of surnames beside the `name` column of first names


# cadence's columns whose cells must hold its own words: a sheet's `Status` of `VIP` is the
# sheet's own column, not cadence's
_WORDS_OF = {
    # whole years of a person's age, as the rule reads them (not a birth year, not days)
    "age": lambda cell: cell.isdigit() and cell.isascii() and int(cell) <= 120,
    "status": lambda cell: cell.lower() in STATUSES,
    "channels": lambda cell: all(c.strip().lower() in CHANNELS for c in cell.split(";")),
    "optout": lambda cell: cell.lower() == "all" or all(
        c.strip().lower() in CHANNELS for c in cell.split(";")),
}


def guess_sheet(columns, rows) -> Guess:
    """The mapping of a sheet's header (`columns`) and its date format, read from its cells."""
    def cells(header):
        return [c for c in (r.get(header, "").strip() for r in rows) if c]

    # each of cadence's columns: of the headers that mean it and whose cells fit, the first
    # with a value (an Outlook export's empty Business Phone before its Mobile Phone)
    found = {}
    for header in columns:
        key = _key(header)
        for name, words in SYNONYMS.items():
            if key not in words:
                continue
            held = cells(header)
            fits = _WORDS_OF.get(name)
            if fits and not all(fits(c) for c in held):
                continue
            if name == "name" and key != "name" and held and not any(map(email_problem, held)):
                continue  # a `Kontakt` column of email addresses reaches them, it does not name them
            found.setdefault(name, []).append((not held, header))
            break
    mapped, taken, headers = [], set(), {}
    for name in SYNONYMS:
        if name in found:
            header = min(found[name], key=lambda pair: pair[0])[1]  # stable: the first filled
            taken.add(name)
            headers[name] = header
            if header != name:
                mapped.append((name, header))
    mapped.sort(key=lambda pair: list(columns).index(pair[1]))
    if "email" not in taken:  # a column of email addresses, whatever its header says
        sniffed = [h for h in columns if h not in headers.values() and _all_emails(cells(h), rows)]
        if sniffed:
            header = min(sniffed, key=lambda h: "mail" not in _key(h))  # a mail header first
            taken.add("email")
            headers["email"] = header
            mapped.append(("email", header))
    dates, sample, ambiguous = _dates(columns, rows)
    ids = [r.get(headers["id"], "").strip() for r in rows] if "id" in headers else []
    has_ids = bool(ids) and all(ids)
    surname = next((h for h in columns if _key(h) in _SURNAMES), "") \
        if _key(headers.get("name", "")) in _FIRST_NAMES else ""
    return Guess(tuple(mapped), dates, sample, ambiguous, has_ids, "playbook" in taken,
                 len(rows), "name" in taken, "id" in taken,
                 bool(taken & {"email", "phone", "address"}), language_of(columns),
                 _unbundled_language(columns), surname)


_FIRST_NAMES = {"firstname", "givenname", "förnamn", "vorname", "prénom", "имя", "імя"}
_SURNAMES = {"lastname", "surname", "familyname", "efternamn", "nachname", "фамилия",
             "прізвище", "nomdefamille", "apellido", "apellidos"}


# The headers a sheet's owner wrote tell the language they work in (the contacts' names may be
# anyone's): words that only Swedish writes so (not `Telefon`, `E-post` or `Ort`, which
# Norwegian, Danish or German write too), and letters only Russian has among the Cyrillic
# alphabets (`ы`, `э`, `ё`), or its words for name and mail.
_SWEDISH = {"namn", "fulltnamn", "förnamn", "efternamn", "epostadress", "företag",
            "födelsedag", "födelsedatum", "ålder", "anteckningar", "postadress", "postnummer",
            "mobilnummer", "senastkontakt", "kontaktperson"}
_NOT_SWEDISH = set("æøÆØüÜß")
_RUSSIAN = {"имя", "фио", "фамилия", "почта", "электроннаяпочта", "элпочта", "деньрождения",
            "датарождения", "возраст", "мобильный"}


def language_of(columns) -> str:
    """`sv` or `ru` when the headers are written in Swedish or Russian (the languages of the
    bundled playbooks besides English), else ""; Ukrainian headers give "", as no bundled
    playbook is in Ukrainian (and a Russian one would be the wrong one)."""
    keys = {_key(h) for h in columns}
    letters = set("".join(columns).lower())
    if letters & set("ыэё") or keys & _RUSSIAN:
        return "ru"
    if keys & _SWEDISH and not letters & _NOT_SWEDISH:
        return "sv"
    return ""


def _unbundled_language(columns) -> str:
    """"uk" for headers written in Ukrainian (letters Russian lacks: `і`, `ї`, `є`, `ґ`), which
    no bundled playbook speaks; else ""."""
    letters = set("".join(columns).lower())
    return "uk" if letters & set("іїєґ") and not letters & set("ыэёў") else ""


def _dates(columns, rows) -> tuple:
    """(format, a sample cell, ambiguous) from every cell that looks like a date."""
    counts, samples, short, first_big, second_big = {}, {}, {}, {}, {}
    for row in rows:
        for column in columns:
            cell = row.get(column, "").strip()
            if not cell or not cell[0].isdigit():
                continue
            for index, (regex, order, sep) in enumerate(_SHAPES):
                match = regex.match(cell)
                if match is None:
                    continue
                a, b = int(match.group(1)), int(match.group(2))
                counts[index] = counts.get(index, 0) + 1
                samples.setdefault(index, cell)
                # by part: +1 a cell written without a zero (`3`), -1 one with it (`03`)
                one = short.setdefault(index, [0, 0])
                for position, part in enumerate(match.group(1, 2)):
                    one[position] += (len(part) == 1) - (len(part) == 2 and part[0] == "0")
                first_big[index] = first_big.get(index, False) or a > 12
                second_big[index] = second_big.get(index, False) or b > 12
                break
    if not counts:
        return DateFormat(), "", False
    index = max(sorted(counts), key=lambda i: counts[i])
    regex, order, sep = _SHAPES[index]
    ambiguous = False
    if order[0] == "?":
        month_first = second_big[index] and not first_big[index]
        ambiguous = not first_big[index] and not second_big[index]
        order = ("m", "d", "Y") if month_first else ("d", "m", "Y")
    # a part is written without its zero when more cells show that (`3/14/1985`) than show a
    # zero (`14.03.1975`): a hand-typed `2.5.1980` among Excel's dates does not make cadence
    # write `3.12.2026`, and `11/2/1970` proves nothing either way
    unpadded = [n > 0 for n in short[index]]
    parts = []
    for position, part in enumerate(order):
        if part == "Y":
            parts.append("%Y")
        elif order == ("Y", "m", "d"):
            parts.append(f"%{part}")
        else:
            parts.append(f"%-{part}" if unpadded[position] else f"%{part}")
    found, _ = date_format(sep.join(parts))
    return found, samples[index], ambiguous


def described(guess: Guess, default_playbook: str) -> list:
    """What was guessed, in words for the person who ran `init --from`."""
    lines = []
    if guess.columns:
        lines.append("columns: " + ", ".join(f"{name} = {header!r}"
                                              for name, header in guess.columns))
    else:
        lines.append("columns: the sheet's headers are cadence's own")
    if guess.date_sample:
        lines.append(f"dates: {guess.dates.shown} (as in {guess.date_sample!r})"
                     + ("; day and month could not be told apart, check `dates:`"
                        if guess.ambiguous else ""))
    else:
        lines.append(f"dates: {guess.dates.shown} (the sheet has none yet)")
    if not guess.has_ids and guess.id_column:
        lines.append("ids: some rows have none; the first run makes the missing ones from "
                     "the names and writes them in")
    elif not guess.has_ids:
        lines.append("ids: none in the sheet; the first run makes them from the names and "
                     "writes them back in a new `id` column")
    if guess.surname:
        lines.append(f"names: first names only, {guess.surname!r} stays a column of its own: "
                     "drafts greet by the first name, and two people of one first name get "
                     "ids in the order of the rows (`olena`, `olena-2`): keep the `id` column "
                     "the first run writes in the sheet you download")
    if not guess.has_names:
        lines.append("names: no column of names found; drafts greet people by `contact.name`: "
                     "map one in cadence.yaml (`columns:` under `ledger:`, e.g. `name: Customer`)")
    if not guess.reaches:
        lines.append("reach: no column of email addresses, phone numbers or postal addresses "
                     "found, so no touch can be made: map one in cadence.yaml (`columns:` under "
                     "`ledger:`, e.g. `email: Kontakt` or `phone: Nummer`)")
    lines.append(f"playbook: {default_playbook} for every row without one"
                 + ("" if guess.has_playbook else " (the sheet has no `playbook` column)"))
    if guess.language:
        lines.append(f"language: {LANGUAGES[guess.language]} (from the headers), hence "
                     f"{default_playbook} and `locale: {guess.language}`; for drafts in English, "
                     "set `default_playbook: new-lead` and remove `locale:` before the first run")
    elif guess.other_language:
        name = LANGUAGES[guess.other_language]
        lines.append(f"language: {name} (from the headers); no bundled playbook is in {name}, "
                     f"hence {default_playbook} in English: translate its templates "
                     f"(templates/{default_playbook}/) before the first run, or choose another "
                     f"playbook; `locale: {guess.other_language}` in cadence.yaml puts call "
                     f"sheets and the day's index in {name}")
    return lines


LANGUAGES = {"sv": "Swedish", "ru": "Russian", "uk": "Ukrainian"}
