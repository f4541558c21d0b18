"""What the evaluation knows of one account and user: a snapshot, read in one go by the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Impression:
    """A prompt reported `shown`."""

    trigger: str
    style: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the evaluator needs to know of one account and user, read in one go."""

    plan: str | None  # None: never PUT, so the rule set's default plan
    usage: Mapping[str, float]  # metric -> current value (counters: current window)
    dismissed_at: Mapping[str, datetime]  # trigger id -> when this user dismissed it
    attributes: Mapping[str, Any] = field(default_factory=dict)  # the account's, JSON values
    # trigger id -> since when its threshold and condition hold (triggers with `for:`)
    pending_since: Mapping[str, datetime] = field(default_factory=dict)
    impressions: Sequence[Impression] = ()  # this user's, within the impressions horizon
    account_impressions: Sequence[Impression] = ()  # every user's of the account
