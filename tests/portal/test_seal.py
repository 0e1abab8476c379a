"""Sealed inbox entries: what a copy of the database (T1) sees of a waiting submission."""

from __future__ import annotations

import pytest

from portal.store import inbox, seal
from surveys.answers import validate
from surveys.definition import load_template
from tests.factories import complete_answers

STAFF = load_template("staff_threats")
KEY = "a-secret-key"


def plaintext(**overrides) -> bytes:
    form = complete_answers(STAFF, **overrides)
    return inbox.encode(validate(STAFF, {k: [v] for k, v in form.items()}), None)


def test_round_trip_and_nothing_legible():
    text = plaintext(suggestions="Hotad i väntrummet", exp_threats="once", aim="some")
    sealed = seal.seal(KEY, 7, text, inbox.entry_size(STAFF))
    assert b"suggestions" not in sealed
    assert "väntrummet".encode() not in sealed
    answers, period = inbox.decode(seal.unseal(KEY, 7, sealed))
    assert answers.texts == {"suggestions": "Hotad i väntrummet"}
    assert answers.choices["exp_threats"] == ("once",)
    assert period is None


def test_every_entry_of_a_survey_has_one_size_whatever_the_answers(app):
    size = inbox.entry_size(STAFF)
    shortest = plaintext()
    prose = " ".join(
        ["Hot och våld i väntrummet, på hembesök och i telefon; larmknappar saknas."] * 27
    )[:2000]
    longest = plaintext(suggestions=prose, exp_threats="more5", aim="all", police="all")
    assert len(longest) < size
    with app.app_context():
        assert len(inbox.seal_entry(1, shortest, size)) == len(inbox.seal_entry(1, longest, size))
    # Fresh nonces: sealing the same answers twice gives unrelated bytes.
    assert seal.seal(KEY, 1, shortest, size) != seal.seal(KEY, 1, shortest, size)


@pytest.mark.parametrize("where", [0, 5, 20, -1])
def test_an_altered_entry_is_refused(where):
    sealed = bytearray(seal.seal(KEY, 3, plaintext()))
    sealed[where] ^= 0x01
    with pytest.raises(seal.SealError):
        seal.unseal(KEY, 3, bytes(sealed))


def test_an_entry_moved_to_another_survey_or_read_with_another_key_is_refused():
    sealed = seal.seal(KEY, 3, plaintext())
    with pytest.raises(seal.SealError):
        seal.unseal(KEY, 4, sealed)
    with pytest.raises(seal.SealError):
        seal.unseal("another-key", 3, sealed)
    with pytest.raises(seal.SealError):
        seal.unseal(KEY, 3, sealed[:10])
