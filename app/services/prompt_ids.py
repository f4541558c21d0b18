"""Prompt ids: opaque, signed names of (account, user, trigger, issue time).

A frontend reports events by prompt id alone, so the id must be unforgeable:
its payload is signed with a key derived from NUDGE_SIGNING_SECRET (distinct from
the client-token key). Ids are valid for events for 7 days after issue.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PROMPT_ID_LIFETIME = timedelta(days=7)
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class PromptRef:
    account_id: str
    user_id: str | None
    trigger_id: str
    issued_at: datetime


class InvalidPromptId(Exception):
    """The id was not issued by this service, was altered, or has expired."""


class PromptIdCodec:
    def __init__(self, signing_secret: str) -> None:
        self._key = hmac.new(
            signing_secret.encode(), b"nudge/prompt-id/v1", hashlib.sha256
        ).digest()

    def encode(self, ref: PromptRef) -> str:
        payload = json.dumps(
            [ref.account_id, ref.user_id, ref.trigger_id, int(ref.issued_at.timestamp())],
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, prompt_id: str, *, now: datetime) -> PromptRef:
        try:
            encoded_payload, encoded_mac = prompt_id.split(".")
            payload = _unb64(encoded_payload)
            mac = _unb64(encoded_mac)
        except ValueError:
            raise InvalidPromptId("malformed prompt id") from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidPromptId("prompt id signature does not match")
        account_id, user_id, trigger_id, issued = json.loads(payload)
        issued_at = datetime.fromtimestamp(issued, UTC)
        if now - issued_at > PROMPT_ID_LIFETIME:
            raise InvalidPromptId("prompt id has expired (older than 7 days)")
        return PromptRef(account_id, user_id, trigger_id, issued_at)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None


def prompt_digest(prompt_id: str) -> str:
    """A short fingerprint of one prompt id: a retried `shown` report counts once."""
    return hashlib.sha256(prompt_id.encode()).hexdigest()[:16]
