"""Free-text cleaning and redaction before storage.

Staff write comments about incidents; a personal identity number, phone
number or e-mail address in a comment could identify them or a client. These
are replaced by markers before anything is stored. Redaction errs on the side
of removing: a personal identity number with a wrong check digit is still
removed, but a plausible date is required to spare years, amounts and case
numbers.
"""

from __future__ import annotations

import re
import unicodedata

PERSONAL_NUMBER = "[personnummer]"
PHONE_NUMBER = "[telefonnummer]"
EMAIL = "[e-post]"

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])",
    re.UNICODE,
)

# YYMMDD or YYYYMMDD, an optional separator (-, + or a space), four digits.
# Month 01-12; day 01-31, or 61-91 for a samordningsnummer.
_PERSONAL = re.compile(
    r"(?<![\w-])"
    r"(?:19|20)?\d{2}"
    r"(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
    r"[-+ ]?\d{4}"
    r"(?![\w-])"
)

# International: +CC or 00CC followed by 6-13 digits in groups.
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])(?:\+|00)\s?[1-9]\d{0,2}(?:[\s-]?\(?0?\)?)?(?:[\s-]?\d){6,13}(?!\d)"
)
# Swedish national: 0 + area code (1-3 digits, or (0x)) + subscriber number of 5-8 digits.
_PHONE_NATIONAL = re.compile(
    r"(?<![\w/:.,-])"
    r"(?:\(0\d{1,3}\)|0\d{1,3})"
    r"(?:\s?[-/]\s?|\s)?"
    r"\d{2,3}(?:[\s-]?\d{2,3}){1,3}"
    r"(?![\w/:,-]|\.\d)"
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    # Swedish numbers have 7 to 10 digits after the leading zero's area code.
    return PHONE_NUMBER if 7 <= len(digits) <= 15 else match.group(0)


def redact(text: str) -> str:
    """Return text with personal identity numbers, phone numbers and e-mail addresses replaced.

    The rest of the text is left exactly as it was; redacting twice changes nothing.
    """
    text = _EMAIL.sub(EMAIL, text)
    text = _PERSONAL.sub(PERSONAL_NUMBER, text)
    text = _PHONE_INTERNATIONAL.sub(_phone, text)
    return _PHONE_NATIONAL.sub(_phone, text)


def clean_text(text: str, max_length: int | None = None) -> str:
    """Normalise typed text (NFC, newlines, control characters, blank runs), then redact it.

    Nothing is truncated here: the caller checks the length and tells the
    respondent. Markup is kept as typed; it is escaped wherever it is shown.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return redact(text.strip())
