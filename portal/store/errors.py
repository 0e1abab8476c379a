"""Refusals raised by the store; services and views turn them into messages."""

from __future__ import annotations


class StoreError(Exception):
    """A domain refusal from the store; views turn it into a message."""


class SurveyNotOpen(StoreError):
    """The survey is not (or no longer) accepting answers."""


class CodeRejected(StoreError):
    """The access code is unknown or has been used."""


class AlreadySubmitted(StoreError):
    """This form (link mode) has already been submitted."""


class WrongStatus(StoreError):
    """The survey is not in a status that allows the change (it may have just moved on)."""


class DatabaseBusy(StoreError):
    """The database could not take the write now; nothing was written.

    It stayed locked beyond the busy timeout, its connection was lost (a
    PostgreSQL restart), or the disk is full. Worth retrying in a moment.
    """


class BackupError(StoreError):
    """A backup could not be made."""


class ResultsNotAvailable(StoreError):
    """Results are computed only from a closed data set (rule D2: no interim results)."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(f"results are only available for closed surveys; this one is {status}")


class DuplicateEmail(StoreError):
    """An account with this e-mail address exists already."""


class LastActiveAdmin(StoreError):
    """The change would leave no active administrator."""


class UnknownUser(StoreError):
    """No account with this id."""
