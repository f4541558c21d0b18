"""Waiting for something that takes real time (a file event, a background task), bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest


async def eventually(
    check: Callable[[], Awaitable[bool]], *, what: str, within: float = 5.0
) -> None:
    """Wait until `check` holds; fail naming `what` after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not within {within}s: {what}")
        await asyncio.sleep(0.02)
