"""Padded survey submissions (threat model T3: whoever sees request sizes).

With JavaScript, ``static/respond.js`` adds a field ``pad`` of filler to the
survey form just before it is sent, so that the whole url-encoded body is a
multiple of ``PAD_BLOCK`` bytes: every submission that fits in one block
(all but those with very long comments) has exactly the same size on the
wire, whatever the answers. The server checks the field and discards it.
Without JavaScript the body is not padded; the README says what its size
can reveal.
"""

from __future__ import annotations

import logging
import re

from flask import Request

PAD_FIELD = "pad"
PAD_BLOCK = 16384  # bytes; the same number is in static/respond.js
_FILLER = re.compile(r"x*")

log = logging.getLogger(__name__)


def acceptable(request: Request) -> bool:
    """False for a malformed padding field (more than one, other characters, too long).

    A body whose size is not a whole number of blocks is accepted all the
    same (answers are never lost over padding) and logged, without content,
    because it means the script's count and the browser's encoding differ.
    """
    values = request.form.getlist(PAD_FIELD)
    if not values:
        return True
    if len(values) > 1 or len(values[0]) >= PAD_BLOCK or not _FILLER.fullmatch(values[0]):
        return False
    length = request.content_length or 0
    if length % PAD_BLOCK:
        log.warning("a padded submission of %d bytes is not a whole number of blocks", length)
    return True
