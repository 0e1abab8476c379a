"""Värna against τ-ARGUS's optimal suppression on single tables (IL5), and both
against a reader who knows the published bands (``tests/surveys/peer.py``).

``bench/tau_argus.py`` prints the figures; these tests hold what they show: Värna's
tables give nothing away, τ-ARGUS's optimum (which reads a band as "x") sometimes
does, and on the tables the report publishes by group Värna needs no more than
the optimum where that optimum is safe.
"""

from __future__ import annotations

import functools

import pytest

from tests.factories import BENCHMARK_SURVEYS, counts_from_answers, generated_survey
from tests.surveys import peer

pytestmark = pytest.mark.skipif(
    not peer.available(), reason="pytauargus is not installed (the τ-ARGUS peer of IL5)"
)
K = 5


@functools.cache
def survey(name: str):
    """The survey's counts per item and group (``peer.marginals``)."""
    _, template, responses, seed = next(b for b in BENCHMARK_SURVEYS if b[0] == name)
    definition, answers, periods = generated_survey(template, responses, seed)
    return peer.marginals(definition, counts_from_answers(definition, answers, periods), K)


@functools.cache
def key_tables(name: str) -> tuple[peer.Comparison, ...]:
    """Every key-figure table by group, compared with each respondent's view too."""
    marginals = survey(name)
    return tuple(
        peer.compare(marginals, K, item, breakdown, shape)
        for item, breakdown, shape in peer.tables(marginals)
        if shape == "key"
    )


@pytest.mark.parametrize("name", ["demo staff 2025", "demo exit", "staff 50"])
def test_no_reader_works_out_a_protected_figure_of_varnas_single_tables(name):
    tables = key_tables(name)
    assert len(tables) >= 40
    assert sum(c.primary for c in tables) > 0  # there is something to protect
    assert [c for c in tables if c.varna_recovered] == []


def test_tau_argus_optimum_read_with_the_bands_gives_figures_away():
    """The control: the reader check has teeth. τ-ARGUS does not know that a band
    ("<10 %") publishes bounds, so its fewer suppressions can leave a figure that a
    reader works out; the same check passes every table of Värna's."""
    marginals = survey("demo staff 2025")
    full = [
        peer.compare(marginals, K, item, breakdown, shape, respondents=False)
        for item, breakdown, shape in peer.tables(marginals)
        if shape == "full" and breakdown == "role"
    ]
    leaky = [c for c in full if c.tau_recovered]
    assert leaky, "τ-ARGUS's optimum passed the reader check everywhere"
    assert [c for c in full if c.varna_recovered] == []


@pytest.mark.parametrize(
    "name", ["demo staff 2025", "demo staff 2026", "demo exit", "staff 50", "staff 400"]
)
def test_varna_needs_no_figure_beyond_a_safe_optimum(name):
    """Where τ-ARGUS's optimum is safe for Värna's readers and keeps the line rule, Värna
    hides no more on a published table (before the audit's last pass published again
    what it had hidden on the way, one table of the exit questionnaire and one at 400
    responses needed one figure more)."""
    beyond = [
        c
        for c in key_tables(name)
        if c.varna > c.tau and not c.tau_recovered and not c.tau_breaks_line_rule
    ]
    assert beyond == []
