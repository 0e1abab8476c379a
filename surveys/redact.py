"""Free-text cleaning and redaction before storage.

Staff write comments about threats and incidents; a personal identity number,
phone number or e-mail address in a comment could identify them, a colleague
or a client. These are replaced by markers before anything is stored, and the
rest of the text is kept exactly as typed.

Redaction errs on the side of removing: a personal identity number with a
wrong check digit is still removed, and a run of digits that can be read as
several phone numbers is split so that as many digits as possible go. What
spares ordinary text is shape, not luck: a personal identity number needs a
plausible date, and a phone number starts with 0 or + and has the length of
a real one, so years, dates, times, amounts, law references and case numbers
stay as they are.

Numbers and addresses are looked for in a normalised shadow of the text, not
in the text itself: each character is NFKC-normalised (full-width digits and
"＠" become ASCII), every kind of dash becomes "-", and obfuscated e-mail
forms ("anna @ kommun.se", "anna(at)kommun.se", "anna [snabel-a] kommun
[punkt] se") become plain addresses. What is found there is replaced in the
text as typed, so everything that is not an identifier is kept as it was.

Likely personal names are masked too: a capitalised word from the bundled
lists of common Swedish first names and surnames (surveys/names/, after SCB's
name statistics), a capitalised word ending in "sson", a capitalised word
next to such a name, and whatever follows "mitt namn är", "jag heter" and
their English forms. A list cannot know every name: HR masks what it missed
before a comment is published.

Every pattern is linear in the length of the text: a form may carry a few
hundred kilobytes.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# Stored in the comment itself, so they are Swedish, like the portal's records.
PERSONAL_NUMBER_MARKER = "[personnummer]"
PHONE_MARKER = "[telefonnummer]"
EMAIL_MARKER = "[e-post]"
NAME_MARKER = "[namn]"
MARKERS = (PERSONAL_NUMBER_MARKER, PHONE_MARKER, EMAIL_MARKER, NAME_MARKER)
# What HR writes over a part of a comment it masks by hand before publishing.
MASK_MARKER = "[…]"
_MASKS = re.compile(
    r"\[(?:…|\.\.\.|maskerat|masked)\]|" + "|".join(re.escape(marker) for marker in MARKERS)
)

# A number never starts right after a digit: it would be the tail of a longer
# one. Neither does it after "]", the end of a marker, which so blocks what the
# digit it replaced blocked: that is what makes redacting twice change nothing.
# A letter does not block, so "tfn0701234567" is redacted too.

_EMAIL = re.compile(
    r"(?<![\w.%+'\-\]])"
    r"[\w.%+'\-]+"
    r"@(?:[\w\-]+\.)+[^\W\d_]{2,}"
)

# Between the groups of a number: a space, a dash with optional spaces, or a
# dot or slash without ("070.123.45.67", "070/1234567"; ". " ends a sentence).
_SEPARATOR = r"(?:[ \u00a0]?[-\u2013\u2212][ \u00a0]?|[./]|[ \u00a0])"

_PERSONAL_NUMBER = re.compile(
    # Not after "+": that is an international phone number.
    r"(?<![\d\]+])"
    r"(?P<century>18|19|20)?"
    # "850315", "85-03-15", "85 03 15", "1985-03-15": the same separator, or none, twice.
    r"(?P<year>[0-9]{2})(?P<datesep>[-. /]?)(?P<month>0[1-9]|1[0-2])(?P=datesep)"
    r"(?P<day>0[1-9]|[12][0-9]|3[01]|6[1-9]|[78][0-9]|9[01])"
    rf"(?P<separator>{_SEPARATOR}|\+)?"
    r"(?P<serial>[0-9]{4})"
    r"(?!\d)"
)

# Digit groups joined by separators, starting like a phone number: +, 0 or
# "(0". A group in parentheses may follow another group directly, as in
# "+46 (0)70" and "(08)123". Each separator is required and cannot be a digit,
# so a run is parsed in one way only and the pattern cannot backtrack badly.
_PHONE_RUN = re.compile(
    r"(?<![\d\]])(?=\+[0-9]|0[0-9]|\(0[0-9]{1,3}\))"
    r"(?:\+?[0-9]+|\([0-9]{1,4}\))"
    rf"(?:{_SEPARATOR}?\([0-9]{{1,4}}\)|(?:{_SEPARATOR}|(?<=\)))\+?[0-9]+)*"
)
_PHONE_GROUP = re.compile(r"\+?[0-9]+|\([0-9]{1,4}\)")
# "+12 500 000 kr" is a signed amount, not a number in Kiribati.
_UNIT_AFTER = re.compile(r"[ \u00a0]?(?:kr\b|kronor|sek\b|:-|%|procent)", re.IGNORECASE)
# dd-mm-yyyy has the shape of "08-12 34 56", and "08.30-17.00" that of "08.30.17.00".
_DATE_SHAPE = re.compile(r"[0-9]{2}([-./])[0-9]{2}\1[0-9]{4}")
_TIME_SHAPE = re.compile(r"[0-2][0-9][.:][0-5][0-9](?: ?- ?[0-2][0-9][.:][0-5][0-9])?")

# Every kind of dash, as typed or pasted; "-" in the shadow text.
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
# Obfuscated "@" and "." in e-mail addresses, in the NFKC-normalised text.
_OBFUSCATED_AT = re.compile(
    r"[ \t]*[(\[{<][ \t]*(?:at|snabel-?a)[ \t]*[)\]}>][ \t]*"
    r"|[ \t]+@[ \t]*|@[ \t]+"
    r"|[ \t]+snabel-?a[ \t]+",
    re.IGNORECASE,
)
_OBFUSCATED_DOT = re.compile(r"[ \t]*[(\[{<][ \t]*(?:dot|punkt)[ \t]*[)\]}>][ \t]*", re.IGNORECASE)

# Words for names: letters, with inner hyphens and apostrophes ("Anna-Karin", "O'Brien").
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
# What introduces a name, after which the next capitalised words are one.
_NAME_INTRO = re.compile(
    r"\b(?:mitt\s+namn\s+är|jag\s+heter|heter|namnet\s+är|kallas|"
    r"my\s+name\s+is|i\s+am\s+called|named|called)\s+",
    re.IGNORECASE,
)
# Names that are also ordinary words: at the start of a sentence they are taken
# for the word unless a name follows ("Per telefon", "Stig in", "Bo kvar").
_NAMES_ALSO_WORDS = frozenset(
    {"Bo", "Per", "Sten", "Stig", "Rut", "Siv", "Vera", "Lo", "Liv", "Ali", "Ek", "Falk"}
    | {"Blom", "Berg", "Holm", "Lind", "Strand", "Ström", "Dahl", "Björk", "Sam", "Tea"}
    | {"Ines", "Lea", "Ann", "Ella", "Alma", "Saga", "Signe", "Milo", "Leo", "Kent"}
    # "Hans chef …" (his), "Inga problem" (no), "Klara besked" (clear), "Lina" (rope),
    # "Lisa" (relief): far more often the word than the name at a sentence's start.
    | {"Hans", "Inga", "Klara", "Lina", "Lisa"}
)
_MAX_INTRODUCED_WORDS = 3
_NAMES = Path(__file__).with_name("names")

_NEWLINE = re.compile(r"\r\n?|[\x85\u2028\u2029]")
# Control characters other than \t and \n, and invisible format characters:
# pasted text carries zero-width spaces and soft hyphens inside numbers, where
# they would hide them from redaction, and bidirectional overrides make the
# stored text display as something else than it says.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]"
)
_EXTRA_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n){3,}")
_MAX_BLANK_LINES = 2


@dataclass(frozen=True, slots=True)
class _Group:
    """One group of digits in a phone run: "070", "+46" or "(0)"."""

    start: int
    end: int
    digits: str
    plus: bool
    parenthesised: bool


def redact(text: str) -> str:
    """Return text with identity numbers, phone numbers, e-mail addresses and names masked.

    Personal identity numbers and coordination numbers (day + 60) are
    recognised as YYMMDD-NNNN, YYMMDD+NNNN, YYMMDDNNNN, YYYYMMDD-NNNN and
    YYYYMMDDNNNN, with a space, dot, slash or any dash for the dash and with
    the date written YY-MM-DD or YY MM DD too; the check digit is not
    required, a plausible date is. Phone numbers are Swedish ones in the
    usual notations (groups apart by spaces, dashes, dots or slashes) and
    international ones written with + or 00. E-mail addresses are found also
    when written with full-width characters, spaces around "@", "(at)" or
    "[snabel-a]". Likely names are described in the module's docstring.
    Everything else is left as typed, and redacting the result again changes
    nothing.
    """
    text = _replace(text, _email_spans)
    text = _replace(text, _personal_number_spans)
    text = _replace(text, _phone_spans)
    return _replace(text, _name_spans)


@dataclass(frozen=True, slots=True)
class _Shadow:
    """A normalised copy of a text, and where each of its characters came from."""

    text: str
    # None when the shadow is the text itself (plain ASCII): positions map one to one.
    starts: list[int] | None
    ends: list[int] | None

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the typed text that shadow[start:end] came from."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]

    def spans(self) -> tuple[list[int], list[int]]:
        """Where each character came from, as lists."""
        if self.starts is None or self.ends is None:
            return list(range(len(self.text))), list(range(1, len(self.text) + 1))
        return self.starts, self.ends


def _shadow(text: str) -> _Shadow:
    if text.isascii():
        return _Shadow(text, None, None)
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        if char.isascii():
            mapped = char
        elif char in _DASHES:
            mapped = "-"
        else:
            mapped = unicodedata.normalize("NFKC", char)
            if mapped in _DASHES:
                mapped = "-"
        chars.append(mapped)
        starts.append(index)
        ends.append(index + 1)
    shadow = "".join(chars)
    # A character may have become several ("½" is "1⁄2"): each maps back to it.
    flat_starts: list[int] = []
    flat_ends: list[int] = []
    for mapped, start, end in zip(chars, starts, ends, strict=True):
        flat_starts += [start] * len(mapped)
        flat_ends += [end] * len(mapped)
    return _Shadow(shadow, flat_starts, flat_ends)


def _collapse(shadow: _Shadow, pattern: re.Pattern[str], replacement: str) -> _Shadow:
    """Replace each match in the shadow by ``replacement``, which maps to all it replaced."""
    if pattern.search(shadow.text) is None:
        return shadow
    old_starts, old_ends = shadow.spans()
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for match in pattern.finditer(shadow.text):
        if match.end() == match.start():
            continue
        pieces.append(shadow.text[position : match.start()])
        starts += old_starts[position : match.start()]
        ends += old_ends[position : match.start()]
        pieces.append(replacement)
        first, last = shadow.original(match.start(), match.end())
        starts += [first] * len(replacement)
        ends += [last] * len(replacement)
        position = match.end()
    pieces.append(shadow.text[position:])
    starts += old_starts[position:]
    ends += old_ends[position:]
    return _Shadow("".join(pieces), starts, ends)


_Span = tuple[int, int, str]


def _replace(text: str, find: Callable[[str], Iterable[_Span]]) -> str:
    """Replace in ``text`` what ``find`` found in its normalised shadow by the markers."""
    shadow = _shadow(text)
    if find is _email_spans:
        shadow = _collapse(shadow, _OBFUSCATED_AT, "@")
        shadow = _collapse(shadow, _OBFUSCATED_DOT, ".")
    parts: list[str] = []
    position = 0
    for start, end, marker in find(shadow.text):
        first, last = shadow.original(start, end)
        if first < position:  # two finds in the pieces of one typed character: one marker
            position = max(position, last)
            continue
        parts += [text[position:first], marker]
        position = last
    if not parts:
        return text
    parts.append(text[position:])
    return "".join(parts)


def _email_spans(text: str) -> Iterator[_Span]:
    for match in _EMAIL.finditer(text):
        yield match.start(), match.end(), EMAIL_MARKER


def _personal_number_spans(text: str) -> Iterator[_Span]:
    for match in _PERSONAL_NUMBER.finditer(text):
        yield match.start(), match.end(), _personal_number_marker(match)


def _phone_spans(text: str) -> Iterator[_Span]:
    for match in _PHONE_RUN.finditer(text):
        yield from _redact_phone_run(match)


def clean_text(text: str, max_length: int) -> str:
    """Return typed free text normalised and redacted, ready to store.

    Newlines become ``\\n``; control characters other than ``\\n`` and ``\\t``
    and invisible format characters are removed; the text is NFC-normalised,
    stripped, and more than two consecutive blank lines become two. Then it is
    redacted. Markup such as ``<script>`` is kept as typed: it is escaped
    where it is shown, never here.

    ``max_length`` is the question's limit. It is not applied: the caller
    checks the length of what was typed and asks the respondent to shorten
    it, so the text is never cut here.
    """
    text = _NEWLINE.sub("\n", text)
    # Removed before normalising, so that a letter and its combining accent
    # that were kept apart by a control character compose.
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFC", text).strip()
    text = _EXTRA_BLANK_LINES.sub("\n" * (_MAX_BLANK_LINES + 1), text)
    return redact(text)


def _personal_number_marker(match: re.Match[str]) -> str:
    digits = match["year"] + match["month"] + match["day"] + match["serial"]
    # Ten bare digits starting with 0 are as often a phone number
    # ("0701234567") as the number of someone born 2000-2009; the check digit
    # decides which marker fits. Either way the digits go.
    bare = not match["century"] and not match["separator"] and not match["datesep"]
    if bare and digits.startswith("0"):
        return PERSONAL_NUMBER_MARKER if _luhn_valid(digits) else PHONE_MARKER
    return PERSONAL_NUMBER_MARKER


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _redact_phone_run(match: re.Match[str]) -> Iterator[_Span]:
    """The spans of the phone numbers in a run of digit groups."""
    run = match.group()
    groups = [
        _Group(
            start=group.start(),
            end=group.end(),
            digits=group.group().strip("+()"),
            plus=group.group().startswith("+"),
            parenthesised=group.group().startswith("("),
        )
        for group in _PHONE_GROUP.finditer(run)
    ]
    before_unit = _UNIT_AFTER.match(match.string, match.end()) is not None
    offset = match.start()
    for first, last in _phone_numbers(groups, run, before_unit):
        yield offset + groups[first].start, offset + groups[last].end, PHONE_MARKER


def _phone_numbers(groups: Sequence[_Group], run: str, before_unit: bool) -> list[tuple[int, int]]:
    """The (first, last) group indexes of the phone numbers in a run.

    A run such as "070-123 45 67 08-12 34 56" holds several numbers, and one
    such as "08-12 34 56 5 gånger" a number and more. Of all the ways to read
    the run as numbers and leftovers, this takes one that redacts the most
    digits. Leftovers therefore never hold a number, which is what makes a
    second redaction find nothing more.
    """
    count = len(groups)
    # covered[i]: the most digits redactable in groups[i:]; taken[i]: the last
    # group of the number starting at group i in that reading, or None.
    covered = [0] * (count + 1)
    taken: list[int | None] = [None] * (count + 1)
    for first in range(count - 1, -1, -1):
        covered[first] = covered[first + 1]
        for last, digits in _phone_number_ends(groups, first, run, before_unit):
            total = digits + covered[last + 1]
            # On a tie, a number here beats leaving the group, and a shorter one a longer.
            if total > covered[first] or (total == covered[first] and taken[first] is None):
                covered[first], taken[first] = total, last
    numbers: list[tuple[int, int]] = []
    first = 0
    while first < count:
        end = taken[first]
        if end is None:
            first += 1
        else:
            numbers.append((first, end))
            first = end + 1
    return numbers


def _phone_number_ends(
    groups: Sequence[_Group], first: int, run: str, before_unit: bool
) -> Iterator[tuple[int, int]]:
    """Yield (last, digits) for each phone number that starts at group ``first``."""
    head = groups[first]
    international = head.plus or (head.digits.startswith("00") and not head.parenthesised)
    if international:
        prefix = 0 if head.plus else 2
        if len(head.digits) <= prefix:
            return
        # +46 numbers have 9-11 digits, 12 when the trunk 0 is wrongly kept.
        low, high = (9, 12) if head.digits[prefix:].startswith("46") else (8, 15)
    elif head.digits.startswith("0") and len(head.digits) >= 2:
        prefix, low, high = 0, 8, 10
    else:
        return
    counted = -prefix
    digits = 0
    for last in range(first, len(groups)):
        group = groups[last]
        if last > first and group.plus:
            return  # "+" starts another number
        digits += len(group.digits)
        # "(0)" is the Swedish trunk prefix written out, as in "+46 (0)70 ...".
        if not (international and group.parenthesised and group.digits == "0"):
            counted += len(group.digits)
        if counted > high:
            return
        if counted < low or (last > first and len(group.digits) < 2):
            continue  # too short, or ends in a lone digit as numbers never do
        if head.plus and before_unit and last == len(groups) - 1:
            continue
        # Both shapes have eight digits: "08-12-2024", "08.30-17.00".
        if (
            not international
            and counted == 8
            and (
                _DATE_SHAPE.fullmatch(run, head.start, group.end)
                or _TIME_SHAPE.fullmatch(run, head.start, group.end)
            )
        ):
            continue
        yield last, digits


def _name_spans(text: str) -> Iterator[_Span]:
    """Likely personal names: listed or "-sson" words, their neighbours, introduced words."""
    words = list(_WORD.finditer(text))
    first_names, surnames = _name_lists()
    introduced_at = {match.end() for match in _NAME_INTRO.finditer(text)}
    index = 0
    while index < len(words):
        word = words[index]
        if not word.group()[0].isupper():
            index += 1
            continue
        if word.start() in introduced_at:
            end = _following_capitalised(text, words, index, _MAX_INTRODUCED_WORDS)
            yield word.start(), words[end].end(), NAME_MARKER
            index = end + 1
            continue
        if not _is_name(word.group(), first_names, surnames):
            index += 1
            continue
        # A listed name with the capitalised words right next to it is one name:
        # "Anna Lindqvist", "Karin Ödmark-Ali", "Sven Erik Olsson".
        end = _following_capitalised(text, words, index, _MAX_INTRODUCED_WORDS)
        start_index = index
        if start_index > 0 and _adjacent(text, words[start_index - 1], word):
            previous = words[start_index - 1].group()
            if _capitalised(previous) and not _sentence_start(text, words[start_index - 1]):
                start_index -= 1
        alone = end == index and start_index == index
        if alone and _sentence_start(text, word) and word.group().title() in _NAMES_ALSO_WORDS:
            index += 1
            continue
        yield words[start_index].start(), words[end].end(), NAME_MARKER
        index = end + 1


def _following_capitalised(text: str, words: list[re.Match[str]], index: int, most: int) -> int:
    """The index of the last capitalised word in the run that starts at words[index]."""
    end = index
    while (
        end + 1 < len(words)
        and end + 1 - index < most
        and _adjacent(text, words[end], words[end + 1])
        and _capitalised(words[end + 1].group())
    ):
        end += 1
    return end


def _adjacent(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    return text[left.end() : right.start()] in (" ", "\u00a0")


def _capitalised(word: str) -> bool:
    return word[0].isupper()


def _sentence_start(text: str, word: re.Match[str]) -> bool:
    before = text[: word.start()].rstrip(" \t\u00a0\"'(\u201d\u00bb-")
    return not before or before[-1] in ".!?:\n"


def _is_name(word: str, first_names: frozenset[str], surnames: frozenset[str]) -> bool:
    if not word[0].isupper():
        return False
    # "ANNA SVENSSON" as well as "Anna Svensson"; a hyphenated name by its parts.
    parts = [part.title() for part in re.split(r"['\u2019-]", word)]
    return any(
        part in first_names or part in surnames or (len(part) > 4 and part.endswith("sson"))
        for part in parts
    )


@functools.cache
def _name_lists() -> tuple[frozenset[str], frozenset[str]]:
    return _read_names("first_names.txt"), _read_names("surnames.txt")


def _read_names(filename: str) -> frozenset[str]:
    lines = (_NAMES / filename).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_masking(original: str, edited: str) -> bool:
    """Whether ``edited`` is ``original`` with some parts replaced by markers, and nothing else.

    HR may hide parts of a comment before publishing it, but never add words
    or drop them silently (that could turn "not afraid" into "afraid"): every
    part of the original that is missing from the edited text must have a
    marker ("[…]", "[...]", "[maskerat]" or a redaction marker) in its place.
    """
    pieces = _MASKS.split(edited)
    markers = _MASKS.findall(edited)
    if not markers:
        return edited == original
    position = 0
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if index == 0:
            if not original.startswith(piece):
                return False
            position = len(piece)
        elif index == last:
            if not original.endswith(piece) or len(original) - len(piece) < position:
                return False
        else:
            found = original.find(piece, position) if piece else position
            if found < 0:
                return False
            position = found + len(piece)
    return True


def same_comment(text: str) -> str:
    """The form in which two comments count as identical (case and spacing aside)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
