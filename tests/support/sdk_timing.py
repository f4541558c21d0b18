"""The time the SDK tests give a prompt fetch that fails open."""

from __future__ import annotations

PROMPT_TIMEOUT = 0.3
# What a failing-open get_prompts may take beyond its timeout on a busy 2-core machine.
SLACK = 0.4
