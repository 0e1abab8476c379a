"""Formatted texts written by HR for staff: the one module that imports bleach.

HR may format the introduction, the notes of local questions and the support
contacts (a survey's own, or the organisation's that surveys inherit) with a
small subset of HTML: paragraphs, line breaks, bold, italics, lists and links.
What they write is kept as typed; every place that shows it (the staff form,
its preview and the thank-you page) passes it through ``formatted`` here,
which keeps only that subset (an allow-list), and only ``http``, ``https`` and
``mailto`` links. Event handlers, ``style`` attributes and ``javascript:`` URLs
are removed; other tags (a script, a style element) are escaped and shown as
text. Plain text without tags becomes paragraphs at blank lines, so the
templates' plain introductions look as before.
(security.md rule 12: ``|safe`` only on what passed this module.)
"""

from __future__ import annotations

import re

import bleach
from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset({"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "a"})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z]")
_BLANK_LINES = re.compile(r"\n\s*\n")
_BLOCK = re.compile(r"<\s*(p|ul|ol)\b", re.IGNORECASE)
# A line break typed outside a tag (not inside ``<a\nhref=…>``).
_NEWLINE_OUTSIDE_TAG = re.compile(r"\n(?![^<]*>)")

_CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    # Tags outside the subset are escaped, not dropped: HR sees in the preview what they
    # wrote ("<två>" stays text) and a script is shown as text, never run.
    strip=False,
    strip_comments=True,
)


def _add_rel(attrs, new=False):
    """Links open without telling the target site where they came from."""
    href_key = (None, "href")
    if href_key in attrs:
        attrs[(None, "rel")] = "noopener noreferrer"
    return attrs


def _lines(paragraph: str, line_breaks: bool) -> list[str]:
    return paragraph.split("\n") if line_breaks else [paragraph]


def formatted(text: str | None, line_breaks: bool = False) -> Markup:
    """``text`` as safe HTML: the allowed subset of tags, or paragraphs of escaped text.

    With ``line_breaks`` (support contacts: a name and a phone number a line) a single
    line break inside a paragraph is kept as ``<br>``, unless the text has paragraphs
    or lists of its own.
    """
    if not text:
        return Markup("")
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not _TAG.search(text):
        paragraphs = [p.strip() for p in _BLANK_LINES.split(text) if p.strip()]
        # Every line is escaped before it is joined: nothing of the text is markup.
        return Markup(  # noqa: S704
            "".join(
                "<p>"
                + "<br>".join(escape(line.strip()) for line in _lines(p, line_breaks))
                + "</p>"
                for p in paragraphs
            )
        )
    if not _BLOCK.search(text):
        paragraphs = [p.strip() for p in _BLANK_LINES.split(text) if p.strip()]
        if line_breaks:
            # Still HR's raw text: the cleaner below sees the <br> like any other tag.
            paragraphs = [_NEWLINE_OUTSIDE_TAG.sub("<br>", p) for p in paragraphs]
        text = "".join(f"<p>{p}</p>" for p in paragraphs)
    cleaned = _CLEANER.clean(text)
    # The one place where HR's markup becomes Markup: bleach's allow-list output.
    return Markup(bleach.linkify(cleaned, callbacks=[_add_rel], parse_email=False))  # noqa: S704
