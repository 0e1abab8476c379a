"""The reference-figures file: a figure no one has checked is never shown as comparable."""

from __future__ import annotations

import pytest

from surveys.references import ReferenceFileError, load_references

ENTRY = """[[reference]]
indicator = "threatened"
value = 48
year = 2024
population = {{ sv = "Socialsekreterare", en = "Social workers" }}
period = {{ sv = "de senaste 12 månaderna", en = "the last 12 months" }}
source = "A report"
{extra}
"""


def write(tmp_path, extra: str) -> None:
    (tmp_path / "t.references.toml").write_text(ENTRY.format(extra=extra), encoding="utf-8")


def test_an_unchecked_figure_cannot_be_comparable(tmp_path):
    write(tmp_path, "")  # comparable by default, but no checked date
    with pytest.raises(ReferenceFileError, match="checked date is not verified"):
        load_references("t", tmp_path)
    write(tmp_path, "comparable = true")
    with pytest.raises(ReferenceFileError, match="not verified"):
        load_references("t", tmp_path)
    write(tmp_path, 'comparable = "yes"')
    with pytest.raises(ReferenceFileError, match="true or false"):
        load_references("t", tmp_path)


def test_a_checked_figure_may_be_comparable_and_an_unchecked_one_is_not(tmp_path):
    write(tmp_path, "checked = 2026-11-26")
    (checked,) = load_references("t", tmp_path)
    assert checked.comparable
    write(tmp_path, 'comparable = false\nnote = { sv = "Ej kontrollerad.", en = "Not verified." }')
    (unchecked,) = load_references("t", tmp_path)
    assert not unchecked.comparable
    assert unchecked.checked is None


def test_the_staff_survey_panel_shows_no_unverified_figure_as_comparable():
    references = load_references("staff_threats")
    assert references
    for reference in references:
        assert reference.checked is not None or not reference.comparable, reference.source
        assert reference.source
        assert reference.population.en
    sou = next(r for r in references if r.source == "SOU 2024:1")
    assert sou.checked is None
    assert not sou.comparable
    assert "not verified" in sou.note.en.lower()
    assert "ej kontrollerad" in sou.note.sv.lower()
