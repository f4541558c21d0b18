"""The account mirror in Redis: each account's plan and attributes, copied from its SQL row
so the prompt path reads them in its one MGET."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.store import keys
from app.store.redis_client import StoreClient


@dataclass(frozen=True, slots=True)
class AccountMirror:
    """The account's plan and attributes as mirrored into Redis; None if never PUT."""

    plan: str | None
    attributes: Mapping[str, Any]


class AccountMirrors:
    def __init__(self, client: StoreClient) -> None:
        self._client = client

    async def write(
        self,
        account_id: str,
        *,
        plan: str,
        attributes: Mapping[str, Any],
        only_if_missing: bool = False,
    ) -> None:
        payload = json.dumps({"plan": plan, "attributes": attributes}, separators=(",", ":"))
        async with self._client.call("mirroring the account") as redis:
            await redis.set(keys.account_key(account_id), payload, nx=only_if_missing)


def mirror_section(account_id: str) -> dict[str, str]:
    return {"account": keys.account_key(account_id)}


def decode_mirror(values: Mapping[str, str | None]) -> AccountMirror:
    """The mirror, from its section. Raises ValueError (or RecursionError) for a value
    Nudge did not write: the prompts made of it could not be trusted."""
    raw = values["account"]
    if not raw:
        return AccountMirror(plan=None, attributes={})
    data = json.loads(raw)
    plan = data.get("plan") if isinstance(data, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(plan, str) or not isinstance(attributes, dict | None):
        raise ValueError("the plan mirror is not {plan, attributes}")
    return AccountMirror(plan=plan, attributes=attributes or {})
