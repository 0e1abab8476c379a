"""Sealed inbox entries: what a copy of the database (T1) sees of a waiting submission."""

from __future__ import annotations

import pytest

from portal.store import inbox, seal, survey_key
from portal.store.models import Survey
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
    _, public = survey_key.new_key()
    with app.app_context():
        for survey in (Survey(id=1), Survey(id=1, seal_key=public)):
            assert len(inbox.seal_entry(survey, shortest, size)) == len(
                inbox.seal_entry(survey, longest, size)
            )
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


# -- survey keys: what the portal itself cannot open ---------------------------------------


def test_a_survey_key_opens_its_entries_and_nothing_the_portal_holds_does():
    text, public = survey_key.new_key()
    body = seal.pad(plaintext(suggestions="Hotad i väntrummet", exp_threats="once"), 4096)
    sealed = survey_key.seal(public, 7, body)
    assert "väntrummet".encode() not in sealed
    assert b"exp_threats" not in sealed
    assert survey_key.is_sealed_to_key(sealed)
    answers, _ = inbox.decode(
        seal.unpad(survey_key.unseal(survey_key.parse(text, public), 7, sealed))
    )
    assert answers.texts == {"suggestions": "Hotad i väntrummet"}
    # The portal's own secret, with every label it derives keys from, opens nothing.
    with pytest.raises(seal.SealError):
        seal.unseal(KEY, 7, sealed)
    # Another survey's key does not open it, nor does this key for another survey id.
    other, other_public = survey_key.new_key()
    with pytest.raises(survey_key.SurveyKeyError):
        survey_key.unseal(survey_key.parse(other, other_public), 7, sealed)
    with pytest.raises(survey_key.SurveyKeyError):
        survey_key.unseal(survey_key.parse(text, public), 8, sealed)


@pytest.mark.parametrize("where", [0, 3, 40, 60, -1])
def test_an_entry_sealed_to_a_survey_key_cannot_be_altered(where):
    text, public = survey_key.new_key()
    sealed = bytearray(survey_key.seal(public, 3, seal.pad(plaintext(), 4096)))
    sealed[where] ^= 0x01
    with pytest.raises(survey_key.SurveyKeyError):
        survey_key.unseal(survey_key.parse(text, public), 3, bytes(sealed))


def test_the_key_text_forgives_case_spaces_and_look_alikes_but_not_another_key():
    text, public = survey_key.new_key()
    assert len(text.replace("-", "")) == 52
    assert text.count("-") == 12
    sloppy = text.lower().replace("-", " ").replace("o", "0").replace("i", "1").replace("b", "8")
    survey_key.parse(sloppy, public)
    survey_key.parse("  " + text + "\n", public)
    for wrong in ("", "ABCD", text[:-1], text + "A", text[:-2] + "!!"):
        with pytest.raises(survey_key.NotAKey):
            survey_key.parse(wrong, public)
    # One letter changed: a valid key, but of no survey (the public halves differ).
    changed = ("B" if text[0] != "B" else "C") + text[1:]
    with pytest.raises(survey_key.WrongKey):
        survey_key.parse(changed, public)
    _, other_public = survey_key.new_key()
    with pytest.raises(survey_key.WrongKey):
        survey_key.parse(text, other_public)
    assert survey_key.fingerprint(public) != survey_key.fingerprint(other_public)
    assert len(survey_key.fingerprint(public)) == 4
