"""Login throttling: how failed logins slow down and then lock an account or a client.

The arithmetic is here, as plain functions on ``store.ThrottleState``; the
state lives in the database (``store.record_throttle_failure``) so that every
gunicorn worker sees the same counts.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from portal.store import ThrottleState

MAX_DELAY = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Policy:
    """Thresholds for one kind of key (an account or a client)."""

    slow_after: int  # failures within the window before attempts must wait
    lock_after: int  # failures within the window that lock the key
    window: dt.timedelta  # failures older than this are forgotten
    lock: dt.timedelta  # how long a lock lasts
    base_delay: dt.timedelta  # the first wait; it doubles with each further failure

    @classmethod
    def from_config(cls, config: Any, kind: str) -> Policy:
        """The policy for ``kind`` ("ACCOUNT" or "CLIENT") from the app config."""
        return cls(
            slow_after=config[f"LOGIN_{kind}_SLOWDOWN_AFTER"],
            lock_after=config[f"LOGIN_{kind}_LOCK_AFTER"],
            window=dt.timedelta(seconds=config["LOGIN_WINDOW_SECONDS"]),
            lock=dt.timedelta(seconds=config["LOGIN_LOCK_SECONDS"]),
            base_delay=dt.timedelta(seconds=config["LOGIN_DELAY_SECONDS"]),
        )

    @property
    def keep_for(self) -> dt.timedelta:
        """How long an idle row can matter: after that it is deleted."""
        return max(self.window, self.lock)


@dataclass(frozen=True)
class Verdict:
    """Whether a key may try now; if not, for how many seconds and whether it is locked."""

    wait_seconds: int = 0
    locked: bool = False

    @property
    def allowed(self) -> bool:
        return self.wait_seconds == 0


def _forgotten(state: ThrottleState, policy: Policy, now: dt.datetime) -> bool:
    """Failures are forgotten when the window has passed or a lock has run out."""
    if state.locked_until is not None:
        return state.locked_until <= now
    return state.failures == 0 or state.first_failure_at <= now - policy.window


def delay_after(failures: int, policy: Policy) -> dt.timedelta:
    """The wait before the next attempt after ``failures`` failures (zero below the threshold)."""
    if failures < policy.slow_after:
        return dt.timedelta(0)
    # The exponent is capped first: 2 ** 46 seconds would overflow timedelta, and
    # every delay beyond 2 ** 20 times the base is capped at MAX_DELAY anyway.
    return min(policy.base_delay * 2 ** min(failures - policy.slow_after, 20), MAX_DELAY)


def _seconds(delta: dt.timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def verdict(state: ThrottleState | None, policy: Policy, now: dt.datetime) -> Verdict:
    """May a key with ``state`` try to log in at ``now``?"""
    if state is None or _forgotten(state, policy, now):
        return Verdict()
    if state.locked_until is not None:
        return Verdict(_seconds(state.locked_until - now), locked=True)
    ready = state.last_failure_at + delay_after(state.failures, policy)
    if ready > now:
        return Verdict(_seconds(ready - now))
    return Verdict()


def after_failure(state: ThrottleState, policy: Policy, now: dt.datetime) -> ThrottleState:
    """The state after one more failure at ``now``; the threshold-th failure locks."""
    if _forgotten(state, policy, now):
        failures, first = 1, now
    else:
        failures, first = state.failures + 1, state.first_failure_at
    locked_until = now + policy.lock if failures >= policy.lock_after else None
    return ThrottleState(
        failures=failures, first_failure_at=first, last_failure_at=now, locked_until=locked_until
    )
