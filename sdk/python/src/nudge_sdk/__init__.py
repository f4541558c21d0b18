"""Nudge's Python SDK: report usage and plans, ask for prompts, mint client tokens.

from nudge_sdk import NudgeClient

nudge = NudgeClient("http://127.0.0.1:8000", api_key=..., signing_secret=...)
nudge.track("acme", "seats", 3, op="set")        # queued, sent in the background
prompts = nudge.get_prompts("acme", user_id="ana")  # [] if anything goes wrong
"""

from __future__ import annotations

from nudge_sdk._async import AsyncNudgeClient
from nudge_sdk._protocol import ErrorCallback
from nudge_sdk._sync import NudgeClient
from nudge_sdk._version import __version__
from nudge_sdk.errors import NudgeAPIError, NudgeConnectionError, NudgeError
from nudge_sdk.models import (
    Account,
    ClientStats,
    Cta,
    MetricUsage,
    Prompt,
    PromptEventType,
    PromptStyle,
    RetryPolicy,
    UsageEvent,
    UsageOp,
)

__all__ = [
    "Account",
    "AsyncNudgeClient",
    "ClientStats",
    "Cta",
    "ErrorCallback",
    "MetricUsage",
    "NudgeAPIError",
    "NudgeClient",
    "NudgeConnectionError",
    "NudgeError",
    "Prompt",
    "PromptEventType",
    "PromptStyle",
    "RetryPolicy",
    "UsageEvent",
    "UsageOp",
    "__version__",
]
