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

Every pattern is linear in the length of the text: a form may carry a few
hundred kilobytes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Stored in the comment itself, so they are Swedish, like the portal's records.
PERSONAL_NUMBER_MARKER = "[personnummer]"
PHONE_MARKER = "[telefonnummer]"
EMAIL_MARKER = "[e-post]"

# A number never starts right after a digit: it would be the tail of a longer
# one. Neither does it after "]", the end of a marker, which so blocks what the
# digit it replaced blocked: that is what makes redacting twice change nothing.
# A letter does not block, so "tfn0701234567" is redacted too.

_EMAIL = re.compile(
    r"(?<![\w.%+'\-\]])"
    r"[\w.%+'\-]+"
    r"@(?:[\w\-]+\.)+[^\W\d_]{2,}"
)

# Between the groups of a number: a space, or a dash with optional spaces.
_SEPARATOR = r"(?:[ \u00a0]?[-\u2013\u2212][ \u00a0]?|[ \u00a0])"

_PERSONAL_NUMBER = re.compile(
    # Not after "+": that is an international phone number.
    r"(?<![\d\]+])"
    r"(?P<century>18|19|20)?"
    r"(?P<date>[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]|6[1-9]|[78][0-9]|9[01]))"
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
# dd-mm-yyyy has the shape of "08-12 34 56".
_DATE_SHAPE = re.compile(r"[0-9]{2}-[0-9]{2}-[0-9]{4}")

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
    """Return text with identity numbers, phone numbers and e-mail addresses replaced by markers.

    Personal identity numbers and coordination numbers (day + 60) are
    recognised as YYMMDD-NNNN, YYMMDD+NNNN, YYMMDDNNNN, YYYYMMDD-NNNN and
    YYYYMMDDNNNN, with a space or en dash for the dash; the check digit is not
    required, a plausible date is. Phone numbers are Swedish ones in the
    usual notations and international ones written with + or 00. Everything
    else is left byte for byte, and redacting the result again changes nothing.
    """
    text = _EMAIL.sub(EMAIL_MARKER, text)
    text = _PERSONAL_NUMBER.sub(_personal_number_marker, text)
    return _PHONE_RUN.sub(_redact_phone_run, text)


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
    digits = match["date"] + match["serial"]
    # Ten bare digits starting with 0 are as often a phone number
    # ("0701234567") as the number of someone born 2000-2009; the check digit
    # decides which marker fits. Either way the digits go.
    if not match["century"] and not match["separator"] and digits.startswith("0"):
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


def _redact_phone_run(match: re.Match[str]) -> str:
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
    parts: list[str] = []
    position = 0
    for first, last in _phone_numbers(groups, run, before_unit):
        parts += [run[position : groups[first].start], PHONE_MARKER]
        position = groups[last].end
    parts.append(run[position:])
    return "".join(parts)


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
        last = taken[first]
        if last is None:
            first += 1
        else:
            numbers.append((first, last))
            first = last + 1
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
        if not international and _DATE_SHAPE.fullmatch(run, head.start, group.end):
            continue
        yield last, digits
