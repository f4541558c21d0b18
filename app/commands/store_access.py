"""How a CLI command reaches the store: REDIS_URL, else the embedded Redis of `nudge serve`.

A command run beside a service on the embedded default finds that service's
redis-server through the URL file the service writes under NUDGE_DATA_DIR.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from app.embedded_redis import url_file
from app.errors import StoreUnavailable
from app.settings import Settings, load_settings
from app.store.account_scan import AccountScan
from app.store.redis_client import RedisClient, create_redis

# A tool reads many keys in large pipelines: give each command far more time than the
# prompt path's budget, and still fail rather than hang on a Redis that does not answer.
CLI_TIMEOUT_SECONDS = 10.0


class NoStore(Exception):
    """Neither REDIS_URL nor a running `nudge serve` says where the store is."""


@dataclass(frozen=True)
class StoreAddress:
    url: str
    cluster: bool
    source: str  # where the URL came from, for messages

    def __str__(self) -> str:
        return f"{_redacted(self.url)} ({self.source})"


def _redacted(url: str) -> str:
    """The URL without its password, fit for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def load_cli_settings() -> Settings:
    """Settings from the environment; exit 2 naming each bad setting."""
    try:
        return load_settings()
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            print(f"nudge: setting {error['loc'][0]}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


def store_address(settings: Settings) -> StoreAddress:
    """Where the store is: REDIS_URL, else the URL a running `nudge serve` left behind."""
    if settings.redis_url is not None:
        source = "REDIS_URL, NUDGE_REDIS_CLUSTER=true" if settings.redis_cluster else "REDIS_URL"
        return StoreAddress(settings.redis_url, settings.redis_cluster, source)
    path = url_file(settings.data_dir)
    try:
        url = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise NoStore(
            f"no store to read: REDIS_URL is not set and no `nudge serve` is running on the "
            f"embedded Redis under {settings.data_dir} ({path} does not exist); start "
            "`nudge serve` from this folder (with the same NUDGE_DATA_DIR), or set REDIS_URL "
            "(and NUDGE_REDIS_CLUSTER=true for a cluster) to the service's Redis"
        ) from None
    except OSError as exc:
        raise NoStore(f"cannot read {path}: {exc.strerror}; or set REDIS_URL") from None
    if not url:
        raise NoStore(f"{path} is empty; restart `nudge serve`, or set REDIS_URL")
    return StoreAddress(url, False, f"the embedded Redis of `nudge serve`, from {path}")


@asynccontextmanager
async def open_scan(address: StoreAddress) -> AsyncIterator[AccountScan]:
    """An AccountScan on a store that answered a PING.

    Raises NoStore for an unusable URL, StoreUnavailable (naming the address) when the
    store does not answer.
    """
    try:
        redis: RedisClient = create_redis(
            address.url, cluster=address.cluster, timeout_seconds=CLI_TIMEOUT_SECONDS
        )
    except ValueError as exc:  # redis-py's word for a URL it cannot use
        raise NoStore(
            f"{address}: not a Redis URL ({exc}); write it as redis://HOST:PORT/0"
        ) from None
    try:
        scan = AccountScan(redis)
        try:
            await scan.ping()
        except StoreUnavailable as exc:
            hint = (
                "is `nudge serve` still running? start it, or set REDIS_URL"
                if address.source.startswith("the embedded")
                else "check REDIS_URL"
            )
            raise StoreUnavailable(f"cannot reach the store at {address}: {exc}; {hint}") from exc
        yield scan
    finally:
        await redis.aclose()
