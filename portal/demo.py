"""Demonstration data: synthetic responses stored through the portal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from portal.models import Survey
from surveys.answers import Answers
from surveys.demo import demo_responses


def demo_answers(
    survey: Survey,
    count: int,
    seed: int | None,
    workers: int = 1,
    *,
    today: dt.date | None = None,
) -> Iterator[tuple[Answers, str | None]]:
    """Synthetic responses, validated exactly like real submissions, with their periods.

    An exit questionnaire's periods are spread over the twelve months up to ``today``.
    """
    return demo_responses(
        survey.definition(), count, seed, today or dt.date.today(), workers=workers
    )
