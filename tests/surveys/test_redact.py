"""Redaction of identity numbers, phone numbers and e-mail addresses, and cleaning of free text."""

from __future__ import annotations

import re
import time
import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.redact import (
    EMAIL_MARKER,
    NAME_MARKER,
    PERSONAL_NUMBER_MARKER,
    PHONE_MARKER,
    clean_text,
    redact,
)

MARKERS = (PERSONAL_NUMBER_MARKER, PHONE_MARKER, EMAIL_MARKER, NAME_MARKER)
PNR, PHONE, EMAIL, NAME = MARKERS

PERSONAL_NUMBERS = [
    "850315-1234",
    "850315+1234",
    "8503151234",
    "19850315-1234",
    "198503151234",
    "850315 1234",
    "19850315 1234",
    "850315\u00a01234",
    "850315\u20131234",
    "811228-9874",  # a correct check digit
    "20050615-4321",
    "000101-0000",
    "991231-9999",
    # Samordningsnummer: the day plus 60.
    "850375-1234",
    "19850361-1234",
    "8503911234",
]

PHONE_NUMBERS = [
    "070-123 45 67",
    "0701234567",
    "070 123 45 67",
    "070–123 45 67",
    "070 - 123 45 67",
    "070-123\u00a045\u00a067",
    "073-123 45 67",
    "08-123 456 78",
    "08-123 45 67",
    "08-12 34 56",
    "081234567",
    "031-12 34 56",
    "031-123 45 67",
    "0123-123 45",
    "0771-123 456",
    "(08) 123 45 67",
    "(031) 12 34 56",
    "+46 70 123 45 67",
    "+46701234567",
    "+46 (0)70-123 45 67",
    "+46 070-123 45 67",
    "+46 8 123 456 78",
    "0046 70-123 45 67",
    "0046701234567",
    "+44 20 7946 0958",
    "+1 (555) 123-4567",
    "+358 40 123 4567",
    "+49 30 12345678",
    "0049 30 1234 5678",
]

EMAIL_ADDRESSES = [
    "anna.svensson@kommun.se",
    "anna@mail.socialtjansten.kommun.se",
    "anna+enkat@example.org",
    "åsa.öberg@kommun.se",
    "Björn_Ärlig@exempel.nu",
    "ÖRJAN.ÅBERG@KOMMUN.SE",
    "x.y-z@sub.domain.co.uk",
    "o'brien@example.ie",
    "4711@kommun.se",
    "anna@förvaltning.se",
]

ORDINARY_TEXTS = [
    "2024",
    "år 2023–2024",
    "mellan 2019-2021",
    "2024-03-15",
    "2024-03-05 kl. 09.00",
    "08-12-2024",
    "15/3",
    "15/3 2025",
    "den 3 mars 2025",
    "v. 12",
    "kl. 14.30",
    "kl. 08.30–17.00",
    "kl 8-17",
    "3 500 kr",
    "12 000 kronor",
    "1 200 000 kr",
    "ökade med +12 500 000 kr",
    "+3 °C",
    "45 %",
    "0,5 %",
    "12,5 procent",
    "LVU 2 §",
    "3 § LVU",
    "SoL 4 kap. 1 §",
    "SFS 1990:52",
    "SFS 2001:453",
    "Dnr 2024/123",
    "Dnr SN 2024/0123-1.2",
    "ärende 2024-0123",
    "5 gånger",
    "19 barn och 12 vuxna",
    "postnummer 123 45",
    "org.nr 212000-0142",
    "ISO 27001",
    "851301-1234",  # month 13
    "850300-1234",  # day 00
    "850332-1234",  # day 32
    "850360-1234",  # day 60
    "850392-1234",  # day 92
    "8503151234567",  # too many digits for a personnummer
    "0 10 20 30 40",
    "@alla kollegor",
    "hej @ alla",
    "mejla enheten@",
    "a@b",
]


# --- personnummer and samordningsnummer ---------------------------------------


@pytest.mark.parametrize("number", PERSONAL_NUMBERS)
def test_personal_numbers_are_redacted(number):
    assert redact(f"Klienten {number} ringde.") == f"Klienten {PNR} ringde."


@pytest.mark.parametrize("number", PERSONAL_NUMBERS)
def test_personal_numbers_are_redacted_at_the_edges_of_the_text(number):
    assert redact(number) == PNR
    assert redact(f"({number})") == f"({PNR})"
    assert redact(f"pnr:{number}, tack") == f"pnr:{PNR}, tack"


@pytest.mark.parametrize(
    ("number", "marker"),
    [
        ("0503151235", PNR),  # the check digit is right: someone born 2005
        ("0503151234", PHONE),  # it is wrong: as likely a phone number
        ("050315-1234", PNR),  # a dash makes it a personnummer, check digit or not
        ("20050315-1234", PNR),
        ("0701234569", PNR),
        ("0701234567", PHONE),
    ],
)
def test_ten_bare_digits_starting_with_0_are_told_apart_by_the_check_digit(number, marker):
    assert redact(f"nr {number}") == f"nr {marker}"


@pytest.mark.parametrize("number", ["850315-12345", "1850315-1234", "850315-123", "850315--1234"])
def test_a_personnummer_inside_a_longer_number_is_not_one(number):
    assert PNR not in redact(number)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pnr850315-1234", f"pnr{PNR}"),
        ("850315-1234st", f"{PNR}st"),
        ("850315 - 1234", PNR),
        ("tfn0701234567", f"tfn{PHONE}"),
        ("mobil070-123 45 67", f"mobil{PHONE}"),
    ],
)
def test_a_number_typed_against_a_word_is_still_redacted(text, expected):
    assert redact(text) == expected


# --- phone numbers -----------------------------------------------------------


@pytest.mark.parametrize("number", PHONE_NUMBERS)
def test_phone_numbers_are_redacted(number):
    assert redact(f"Ring {number} efter lunch.") == f"Ring {PHONE} efter lunch."


@pytest.mark.parametrize("number", PHONE_NUMBERS)
def test_phone_numbers_are_redacted_at_the_edges_of_the_text(number):
    assert redact(number) == PHONE
    assert redact(f"tel:{number}.") == f"tel:{PHONE}."
    assert redact(f"({number})") == f"({PHONE})"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("070-123 45 67 08-12 34 56", f"{PHONE} {PHONE}"),
        ("08-12 34 56 08-12 34 56", f"{PHONE} {PHONE}"),
        ("0701234567 0701234567", f"{PHONE} {PHONE}"),
        ("+46 70 123 45 67 +46 8 123 456 78", f"{PHONE} {PHONE}"),
        ("+46 70 123 45 67 08-12 34 56", f"{PHONE} {PHONE}"),
        ("070-123 45 67, 08-12 34 56", f"{PHONE}, {PHONE}"),
        ("070-123 45 67 eller 031-12 34 56", f"{PHONE} eller {PHONE}"),
    ],
)
def test_several_phone_numbers_in_a_row_are_each_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ringde 070-123 45 67 5 gånger", f"ringde {PHONE} 5 gånger"),
        ("ringde 0701234567 12 gånger", f"ringde {PHONE} 12 gånger"),
        ("ringde +46 8 12 34 56 3 gånger", f"ringde {PHONE} 3 gånger"),
        ("08-12 34 070-123 45 67", f"08-12 34 {PHONE}"),
        ("+46 70 123 45 67 +12 500 000 kr", f"{PHONE} +12 500 000 kr"),
    ],
)
def test_numbers_next_to_a_phone_number_are_kept(text, expected):
    assert redact(text) == expected


# --- e-mail addresses ----------------------------------------------------------


@pytest.mark.parametrize("address", EMAIL_ADDRESSES)
def test_email_addresses_are_redacted(address):
    assert redact(f"Mejla {address}.") == f"Mejla {EMAIL}."


@pytest.mark.parametrize("address", EMAIL_ADDRESSES)
def test_email_addresses_are_redacted_at_the_edges_of_the_text(address):
    assert redact(address) == EMAIL
    assert redact(f"<{address}>") == f"<{EMAIL}>"
    assert redact(f"({address}),") == f"({EMAIL}),"


def test_the_whole_address_goes_even_when_it_looks_like_a_number():
    assert redact("skriv till 0701234567@sms.example.se") == f"skriv till {EMAIL}"
    assert redact("skriv till 850315-1234@example.se") == f"skriv till {EMAIL}"


# --- what slipped through before (issue 19) ------------------------------------


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("1985-01-01-1234", PNR),
        ("19850101-1234", PNR),
        ("850101.1234", PNR),
        ("85 01 01-1234", PNR),
        ("85-01-01-1234", PNR),
        ("850101/1234", PNR),
        ("\uff18\uff15\uff10\uff11\uff10\uff11\uff0d\uff11\uff12\uff13\uff14", PNR),
        ("850101\u20111234", PNR),
        ("070.123.45.67", PHONE),
        ("070/1234567", PHONE),
        ("\uff10\uff17\uff10\u2010\uff11\uff12\uff13 \uff14\uff15 \uff16\uff17", PHONE),
        ("08/123 45 67", PHONE),
        ("anna @ kommun.se", EMAIL),
        ("anna(at)kommun.se", EMAIL),
        ("anna (at) kommun.se", EMAIL),
        ("anna[at]kommun.se", EMAIL),
        ("anna {AT} kommun.se", EMAIL),
        ("anna\uff20kommun.se", EMAIL),
        ("anna snabel-a kommun.se", EMAIL),
        ("anna [snabel-a] kommun [punkt] se", EMAIL),
        ("anna(at)kommun(dot)se", EMAIL),
        (
            "\uff41\uff4e\uff4e\uff41\uff20\uff4b\uff4f\uff4d\uff4d\uff55\uff4e\uff0e\uff53\uff45",
            EMAIL,
        ),
    ],
)
def test_the_forms_that_slipped_through_are_redacted_whole(text, marker):
    # Nothing of the number may stay: "85 01 01-1234" once left "85".
    assert redact(f"Han sa {text} igen.") == f"Han sa {marker} igen."
    assert redact(text) == marker


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mitt namn är Anna Svensson och jag", f"Mitt namn är {NAME} och jag"),
        ("Jag heter Zlatan Ibrahimović.", f"Jag heter {NAME}."),
        ("My name is Jane Doe.", f"My name is {NAME}."),
        ("Min chef Karin Lindqvist sa", f"Min chef {NAME} sa"),
        ("klienten Kalle Johansson hotade", f"klienten {NAME} hotade"),
        ("ANNA SVENSSON ringde", f"{NAME} ringde"),
        ("hon och Anna-Karin gick", f"hon och {NAME} gick"),
        ("Sven Erik Olsson kom", f"{NAME} kom"),
        ("Anna ringde", f"{NAME} ringde"),
        ("pratade med Per efteråt", f"pratade med {NAME} efteråt"),
        ("Bo Andersson kom", f"{NAME} kom"),
        ("utredaren Ödmarksson", f"utredaren {NAME}"),
        ("Inga Svensson ringde", f"{NAME} ringde"),
        ("jag pratade med Hans igår", f"jag pratade med {NAME} igår"),
        ("Fatima och Omar kom", f"{NAME} och {NAME} kom"),
    ],
)
def test_likely_names_are_masked(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Per telefon gick det bra.",
        "Stig in, sa hon.",
        "Bo kvar i lägenheten.",
        "I Malmö och Göteborg.",
        "Polisanmälan gjordes enligt LVU.",
        "vad det heter",
        "Den 3 mars kom en förälder.",
        "kl. 08.30-17.00",
        "kl 08.30 - 09.15",
        "möte 01.02.2025",
        "se 2024/123 och 1.2.3",
        "Hans chef hotade mig.",
        "Det var lugnt. Inga problem sedan dess.",
        "Klara besked behövs.",
        "In August he came back.",
    ],
)
def test_words_that_only_look_like_names_or_numbers_are_kept(text):
    assert redact(text) == text


# The most common names in Sweden (SCB's name statistics, all ages): the ten most common
# first names of women and of men, and the hundred most common surnames but "Lund", which
# is also a city (left to HR's masking).
SCB_FIRST_NAMES = """Maria Elisabeth Anna Kristina Margareta Eva Linnéa Karin Birgitta
Marie Lars Karl Erik Anders Johan Per Nils Carl Mikael Jan""".split()  # noqa: SIM905 - a list of words
SCB_SURNAMES = """Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson
Svensson Gustafsson Pettersson Jonsson Jansson Hansson Bengtsson Jönsson Lindberg
Jakobsson Magnusson
Lindström Olofsson Lindqvist Lindgren Berg Axelsson Bergström Lundberg Lundgren
Lundqvist Mattsson Berglund Fredriksson Sandberg Henriksson Forsberg Sjöberg Wallin Ali
Engström Mohamed Eklund Danielsson Lundin Håkansson Björk Bergman Gunnarsson Holm
Wikström Samuelsson Isaksson Fransson Bergqvist Nyström Holmberg Arvidsson Löfgren
Söderberg Nyberg Blomqvist Claesson Nordström Mårtensson Lundström Ahmed Viklund
Björklund Eliasson Pålsson Hassan Berggren Sandström Nordin Ström Åberg Hermansson
Ekström Holmgren Sundberg Hedlund Dahlberg Hellström Sjögren Abrahamsson Falk Öberg
Andreasson Blom Ek Månsson Strand Abdi Nordqvist""".split()  # noqa: SIM905 - a list of words
# Common names the lists once missed.
ONCE_MISSED = """Camilla Marianne Inger Niklas Kim Muhammad Fatima Omar Yusuf Zahra Aisha
Leila Nour""".split()  # noqa: SIM905 - a list of words


@pytest.mark.parametrize("name", SCB_FIRST_NAMES + SCB_SURNAMES + ONCE_MISSED)
def test_the_most_common_names_are_masked_inside_a_sentence(name):
    assert redact(f"jag pratade med {name} igår") == f"jag pratade med {NAME} igår"


def test_every_listed_name_is_masked_inside_a_sentence():
    from surveys.redact import _name_lists

    first_names, surnames = _name_lists()
    assert len(first_names) > 300
    assert len(surnames) > 150
    kept = [n for n in first_names | surnames if redact(f"och {n} sa") != f"och {NAME} sa"]
    assert kept == []


def test_redaction_keeps_the_typed_text_around_a_normalised_identifier():
    # Full-width letters that are no identifier stay full-width.
    assert redact("\uff21\uff22 070.123.45.67 \uff23") == f"\uff21\uff22 {PHONE} \uff23"


# --- what phonenumbers and python-stdnum recognise ------------------------------

phonenumbers = pytest.importorskip("phonenumbers")
personnummer = pytest.importorskip("stdnum.se.personnummer")

WORDS = st.sampled_from(
    ["hon", "ringde", "igen", "och", "sa", "att", "det", "var", "kl.", "3", "12", "2024", "mars"]
)
PHONE_FORMATS = [
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
]


@st.composite
def recognised_phone_numbers(draw: st.DrawFn) -> str:
    """A Swedish phone number that phonenumbers holds valid, formatted its ways and ours."""
    kind = draw(st.sampled_from(["mobile", "fixed"]))
    if kind == "mobile":
        national = "07" + draw(st.sampled_from("02369")) + draw(digits(7))
    else:
        national = draw(st.sampled_from(["08", "031", "040", "018", "090"])) + draw(
            st.sampled_from("12345678")
        )
        national += draw(digits(9 - len(national) + 1))
    number = phonenumbers.parse(national, "SE")
    if not phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(phonenumbers.parse("070-123 45 67", "SE"), 0)
    formatted = phonenumbers.format_number(number, draw(st.sampled_from(PHONE_FORMATS)))
    separator = draw(st.sampled_from([None, ".", "/", "\u2013"]))
    if separator and not formatted.startswith("+"):
        formatted = formatted.replace(" ", separator).replace("-", separator)
    return formatted


@st.composite
def recognised_personal_numbers(draw: st.DrawFn) -> str:
    """A personnummer with a correct check digit that python-stdnum validates."""
    born = draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2019, 12, 31)))
    stem = f"{born:%y%m%d}" + draw(digits(3))
    check = personnummer.luhn.calc_check_digit(stem)
    number = stem + check
    form = draw(st.sampled_from(["{d}-{s}", "{d}{s}", "{c}{d}-{s}", "{d}.{s}", "{dd}-{s}"]))
    dashed = f"{number[:2]} {number[2:4]} {number[4:6]}"
    return form.format(d=number[:6], s=number[6:], c=f"{born.year // 100}", dd=dashed)


def _phone_numbers_found(text: str) -> list[str]:
    matcher = phonenumbers.PhoneNumberMatcher(text, "SE", leniency=phonenumbers.Leniency.VALID)
    return [match.raw_string for match in matcher]


_PNR_SHAPE = re.compile(r"(?<!\d)\d{2}(?:\d{2})?[ .-]?\d{2}[ .-]?\d{2}[-.+ /]?\d{4}(?!\d)")


def _personal_numbers_found(text: str) -> list[str]:
    candidates = (re.sub(r"[^0-9]", "", m.group()) for m in _PNR_SHAPE.finditer(text))
    return [number for number in candidates if personnummer.is_valid(number)]


# How a number may be typed beyond its digits and ASCII separators: full-width digits (a
# Japanese or Chinese keyboard), no-break spaces and en dashes (a word processor's pasting).
_FULL_WIDTH = str.maketrans(
    {**{str(d): chr(0xFF10 + d) for d in range(10)}, "-": "\uff0d", "+": "\uff0b", " ": "\u3000"}
)
TYPED = st.sampled_from(
    [
        lambda text: text,
        lambda text: text.translate(_FULL_WIDTH),
        lambda text: text.replace(" ", "\u00a0"),
        lambda text: text.replace("-", "\u2013"),
    ]
)


@st.composite
def typed(draw: st.DrawFn, numbers: st.SearchStrategy[str]) -> str:
    return draw(TYPED)(draw(numbers))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            WORDS,
            typed(recognised_phone_numbers()),
            typed(recognised_personal_numbers()),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_nothing_phonenumbers_or_stdnum_recognise_survives(pieces):
    text = " ".join(pieces)
    redacted = redact(text)
    # What survived is looked for in every typed form too (NFKC: full-width digits as ASCII).
    for found in (redacted, unicodedata.normalize("NFKC", redacted)):
        assert _phone_numbers_found(found) == []
        assert _personal_numbers_found(found) == []
    # The libraries do recognise every generated number on its own (so the test has teeth).
    for piece in pieces:
        piece = unicodedata.normalize("NFKC", piece).replace("\u2013", "-")
        if piece not in ("3", "12", "2024") and (piece[0].isdigit() or piece[0] == "+"):
            plain = re.sub(r"[./\u2013]", " ", piece)
            assert _phone_numbers_found(f"ring {plain} nu") or _personal_numbers_found(piece)


# --- ordinary text ---------------------------------------------------------------


@pytest.mark.parametrize("text", ORDINARY_TEXTS)
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text
    assert redact(f"Enligt anteckningen: {text}, se vidare.") == (
        f"Enligt anteckningen: {text}, se vidare."
    )


def test_only_the_identifiers_change_in_a_realistic_comment():
    comment = (
        "Den 3 mars 2025 kl. 14.30 kom en förälder (pnr 850315-1234) till mottagningen\n"
        "och hotade handläggaren. Han ringde sedan 070-123 45 67 fem gånger och mejlade\n"
        "handlaggare.namn@kommun.se. Polisanmälan gjordes, Dnr 2024/123, enligt LVU 2 §.\n"
        "\tSkadestånd på 12 000 kronor, 45 % av ärendena.  "
    )
    assert redact(comment) == (
        f"Den 3 mars 2025 kl. 14.30 kom en förälder (pnr {PNR}) till mottagningen\n"
        f"och hotade handläggaren. Han ringde sedan {PHONE} fem gånger och mejlade\n"
        f"{EMAIL}. Polisanmälan gjordes, Dnr 2024/123, enligt LVU 2 §.\n"
        "\tSkadestånd på 12 000 kronor, 45 % av ärendena.  "
    )


@pytest.mark.parametrize(
    "text", PERSONAL_NUMBERS + PHONE_NUMBERS + EMAIL_ADDRESSES + ORDINARY_TEXTS
)
def test_redacting_twice_changes_nothing(text):
    once = redact(f"a {text} b")
    assert redact(once) == once


def test_markers_are_the_swedish_words():
    assert MARKERS == ("[personnummer]", "[telefonnummer]", "[e-post]", "[namn]")


# --- properties ----------------------------------------------------------------


def digits(count: int) -> st.SearchStrategy[str]:
    """``count`` random digits."""
    return st.text(alphabet="0123456789", min_size=count, max_size=count)


@st.composite
def personal_numbers(draw: st.DrawFn) -> tuple[str, set[str]]:
    """A personnummer or samordningsnummer in any common form, and the markers it may get."""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2029, 12, 31)))
    day = born.day + (60 if draw(st.booleans()) else 0)
    # The check digit is as random as the rest: mistyped numbers go too.
    serial = draw(digits(4))
    form = draw(
        st.sampled_from(
            ["{yy}{md}-{s}", "{yy}{md}+{s}", "{yy}{md}{s}", "{yy}{md} {s}"]
            + ["{yyyy}{md}-{s}", "{yyyy}{md}{s}", "{yyyy}{md} {s}"]
        )
    )
    number = form.format(
        yy=f"{born.year % 100:02d}", yyyy=born.year, md=f"{born.month:02d}{day:02d}", s=serial
    )
    if len(number) == 10 and number.isdigit() and number.startswith("0"):
        return number, {PNR, PHONE}
    return number, {PNR}


@st.composite
def phone_numbers(draw: st.DrawFn) -> tuple[str, set[str]]:
    """A Swedish or international phone number in a common notation, and its markers."""
    kind = draw(st.sampled_from(["mobile", "stockholm", "area", "international"]))
    if kind == "mobile":
        n = draw(st.sampled_from("02369")) + draw(digits(7))
        form = draw(
            st.sampled_from(
                ["07{0}-{1} {2} {3}", "07{0}{1}{2}{3}", "07{0} {1} {2} {3}", "+46 7{0} {1} {2} {3}"]
                + ["+467{0}{1}{2}{3}", "0046 7{0}-{1} {2} {3}", "+46 (0)7{0}-{1} {2} {3}"]
            )
        )
        number = form.format(n[0], n[1:4], n[4:6], n[6:])
    elif kind == "stockholm":
        first = draw(st.sampled_from("123456789"))
        n = first + draw(digits(draw(st.integers(5, 7))))
        grouped = {6: "{0}{1} {2}{3} {4}{5}", 7: "{0}{1}{2} {3}{4} {5}{6}"}
        grouped[8] = "{0}{1}{2} {3}{4}{5} {6}{7}"
        subscriber = grouped[len(n)].format(*n)
        number = draw(st.sampled_from(["08-{}", "(08) {}", "+46 8 {}"])).format(subscriber)
    elif kind == "area":
        area = draw(st.sampled_from(["31", "40", "11", "13", "18", "90", "120", "480", "771"]))
        first = draw(st.sampled_from("123456789"))
        n = first + draw(digits(draw(st.integers(4, 9 - len(area) - 1))))
        grouped = {5: "{0}{1}{2} {3}{4}", 6: "{0}{1} {2}{3} {4}{5}", 7: "{0}{1}{2} {3}{4} {5}{6}"}
        number = draw(st.sampled_from(["0{}-{}", "(0{}) {}"])).format(
            area, grouped[len(n)].format(*n)
        )
    else:
        country = draw(st.sampled_from(["1", "44", "45", "47", "49", "33", "39", "358", "354"]))
        groups = draw(st.lists(st.integers(3, 4), min_size=3, max_size=3))
        parts = [draw(st.sampled_from("123456789")) + draw(digits(size - 1)) for size in groups]
        prefix = draw(st.sampled_from(["+", "00"]))
        number = f"{prefix}{country} " + " ".join(parts)
    if len(number) == 10 and number.isdigit():
        return number, {PHONE, PNR}
    return number, {PHONE}


@st.composite
def email_addresses(draw: st.DrawFn) -> tuple[str, set[str]]:
    """An e-mail address with Swedish letters, dots, a plus tag or subdomains, and its marker."""
    word = st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzåäöÅÄÖABC0123456789_", min_size=1, max_size=8
    )
    label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
    local = ".".join(draw(st.lists(word, min_size=1, max_size=3)))
    if draw(st.booleans()):
        local += "+" + draw(word)
    domain = ".".join(draw(st.lists(label, min_size=1, max_size=3)))
    tld = draw(st.from_regex(r"[a-z]{2,6}", fullmatch=True))
    return f"{local}@{domain}.{tld}", {EMAIL}


# How people write an address to keep it from robots (issue 19: "anna @ kommun.se",
# "anna(at)kommun.se", "anna＠kommun.se" slipped through).
OBFUSCATED_AT = ["@", " @ ", "@ ", "(at)", " (at) ", "[at]", " [AT] ", "{at}", "\uff20"]
OBFUSCATED_AT += [" snabel-a ", " (snabel-a) ", "<at>"]
OBFUSCATED_DOT = [".", "(dot)", " (dot) ", "[punkt]", " [punkt] ", "\uff0e"]


@st.composite
def obfuscated_email_addresses(draw: st.DrawFn) -> tuple[str, set[str]]:
    """An e-mail address with its "@" and the dot before its top-level domain disguised."""
    address, markers = draw(email_addresses())
    local, domain = address.split("@")
    rest, tld = domain.rsplit(".", 1)
    at, dot = draw(st.sampled_from(OBFUSCATED_AT)), draw(st.sampled_from(OBFUSCATED_DOT))
    return f"{local}{at}{rest}{dot}{tld}", markers


IDENTIFIERS = st.one_of(
    personal_numbers(), phone_numbers(), email_addresses(), obfuscated_email_addresses()
)
# Where an identifier stands in prose: after a colon, in parentheses, on its own
# line, at the end of a sentence.
BEFORE = st.sampled_from(["\n", ": ", ", ", "(", " ("])
AFTER = st.sampled_from([". ", ", ", "\n", ") ", "! ", "? "])
# Text made mostly of the characters the patterns care about.
DENSE = st.text(alphabet="0123456789 -+()@.,:]a\u00a0\u2013\n", max_size=80)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), DENSE))
def test_redaction_never_fails_and_redacting_twice_changes_nothing(text):
    once = redact(text)
    assert redact(once) == once


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), DENSE))
def test_everything_but_the_markers_is_kept_in_order(text):
    position = 0
    for piece in re.split("|".join(map(re.escape, MARKERS)), redact(text)):
        found = text.find(piece, position)
        assert found >= 0
        position = found + len(piece)


# Whether a capitalised word is a name depends on where it stands (a sentence
# start, a neighbouring name), so the surroundings here have no capitals.
NO_CAPITALS = st.text(alphabet=st.characters(exclude_categories=("Lu", "Lt")))


@settings(max_examples=1000, deadline=None)
@given(NO_CAPITALS, BEFORE, IDENTIFIERS, AFTER, NO_CAPITALS)
def test_an_embedded_identifier_never_survives(before, left, identifier, right, after):
    value, markers = identifier
    result = redact(before + left + value + right + after)
    # The identifier becomes one marker and its surroundings are redacted as on their own.
    expected = {redact(before) + left + marker + right + redact(after) for marker in markers}
    assert result in expected


@settings(max_examples=200, deadline=None)
@given(IDENTIFIERS)
def test_an_identifier_alone_becomes_its_marker(identifier):
    value, markers = identifier
    assert redact(value) in markers


@pytest.mark.parametrize(
    "text",
    [
        "a" * 256_000,
        "a@" * 128_000,
        "x@" + "a." * 128_000 + "1",
        "1" * 256_000,
        "0 " * 128_000,
        "08 " * 85_000,
        "+1 " * 85_000,
        "+46 (0)" * 36_000,
        "0701234567-" * 23_000,
        "850315-1234 0" * 19_000,
        ("\n" + " " * 9) * 25_000,
    ],
    ids=lambda text: repr(text[:8]),
)
def test_a_large_hostile_text_is_cleaned_in_linear_time(text):
    # A form may carry a few hundred kilobytes; quadratic work would take minutes.
    start = time.perf_counter()
    clean_text(text, 2000)
    assert time.perf_counter() - start < 5


# --- clean_text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hej  ", "hej"),
        ("\n\n  hej\n\n", "hej"),
        ("\u00a0hej\u3000", "hej"),
        ("rad ett\r\nrad två\rrad tre\n", "rad ett\nrad två\nrad tre"),
        ("a\u2028b\u2029c\x85d", "a\nb\nc\nd"),
        ("a\x00b\x07c\x1bd\x7fe\x9ff\x0bg\x0ch", "abcdefgh"),
        ("kolumn\tkolumn", "kolumn\tkolumn"),
        ("rad\t\nrad", "rad\t\nrad"),
        ("a\u200bb\ufeffc\u00add\u2060e", "abcde"),
        ("\u202eolleh\u202c och \u2067x\u2069", "olleh och x"),
        ("Ha\u0308lsa", "Hälsa"),
        ("A\u030angest", "Ångest"),
        ("a\x00\u0308", "ä"),
        ("familj 👨\u200d👩\u200d👧", "familj 👨\u200d👩\u200d👧"),
        ("a\n\nb", "a\n\nb"),
        ("a\n\n\nb", "a\n\n\nb"),
        ("a\n\n\n\nb", "a\n\n\nb"),
        ("a\n\n\n\n\n\n\n\nb", "a\n\n\nb"),
        ("a\n \n\t\n  \n\nb", "a\n\n\nb"),
        ("a\r\n\r\n\r\n\r\n\r\nb", "a\n\n\nb"),
        ("<script>alert('x')</script>", "<script>alert('x')</script>"),
        ('<b>fet</b> & "citat" &amp;', '<b>fet</b> & "citat" &amp;'),
        ("=SUMMA(A1:A2)", "=SUMMA(A1:A2)"),
        ("Ring 070-123 45 67", f"Ring {PHONE}"),
        ("070\u200b-123 45 67", PHONE),
        ("0701234\x00567", PHONE),
        ("85031\u00ad5-1234", PNR),
        ("a\u030asa@kommun.se", EMAIL),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw, 2000) == expected


def test_clean_text_does_not_truncate():
    assert clean_text("x" * 50, 10) == "x" * 50


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_cleaned_text_is_normalised_and_cleaning_it_again_changes_nothing(text):
    cleaned = clean_text(text, 2000)
    assert clean_text(cleaned, 2000) == cleaned
    assert cleaned == cleaned.strip()
    assert unicodedata.is_normalized("NFC", cleaned)
    assert "\r" not in cleaned
    assert "\n\n\n\n" not in cleaned
    assert not any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in cleaned)


# --- HR masking ------------------------------------------------------------------

from surveys.redact import MASK_MARKER, is_masking, same_comment  # noqa: E402

ORIGINAL = "Min chef på enheten i Hjo sa att jag inte skulle anmäla."


@pytest.mark.parametrize(
    "edited",
    [
        ORIGINAL,
        f"Min chef på enheten i {MASK_MARKER} sa att jag inte skulle anmäla.",
        "[...] sa att jag inte skulle anmäla.",
        "Min chef [maskerat]",
        "[…]",
        f"Min {MASK_MARKER} i {MASK_MARKER} sa att jag inte skulle anmäla.",
    ],
)
def test_masking_parts_of_a_comment_is_allowed(edited):
    assert is_masking(ORIGINAL, edited)


@pytest.mark.parametrize(
    "edited",
    [
        "Min chef på enheten i Hjo sa att jag skulle anmäla.",  # a word dropped silently
        "Min chef på enheten i Hjo sa att jag inte skulle anmäla. Ring mig!",  # added
        f"Min chef på enheten i {MASK_MARKER} sa att jag GÄRNA skulle anmäla.",
        f"{MASK_MARKER} Hjo sa att chefen",  # reordered
        "",
        "Min chef på enheten",  # the end cut off without a marker
    ],
)
def test_anything_but_masking_is_refused(edited):
    assert not is_masking(ORIGINAL, edited)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.lists(st.tuples(st.integers(0, 60), st.integers(0, 10))))
def test_replacing_any_spans_by_the_marker_is_masking(text, spans):
    # Non-overlapping spans of the original, each replaced by the marker.
    pieces, position = [], 0
    for start, length in sorted(spans):
        if start < position or start > len(text):
            continue
        pieces += [text[position:start], MASK_MARKER]
        position = min(len(text), start + length)
    edited = "".join(pieces) + text[position:]
    if "[" not in text and "]" not in text:
        assert is_masking(text, edited)


def test_identical_comments_are_recognised_whatever_the_case_and_spacing():
    assert same_comment("Mer  personal!") == same_comment("mer personal!\n")
    assert same_comment("Mer personal") != same_comment("Mer personal!")
