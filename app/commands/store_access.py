"""How a CLI command reaches the store: REDIS_URL, else the embedded Redis of `nudge serve`.

A command run beside a service on the embedded default finds that service's
redis-server through the URL file the service writes under NUDGE_DATA_DIR.

The store's errors are worded for API clients ("retry the same request"); here they
say instead what a person at the terminal should check: the store's address, and
whether `nudge serve` runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from app.embedded_redis import url_file
from app.errors import StoreUnavailable
from app.settings import Settings
from app.store.account_scan import AccountScan
from app.store.account_state import StateReader
from app.store.redis_client import StoreClient, create_redis

# A tool reads many keys in large pipelines: give each command far more time than the
# prompt path's budget, and still fail rather than hang on a Redis that does not answer.
CLI_TIMEOUT_SECONDS = 10.0
# The advice the store's errors give API clients, which a person at a terminal cannot act on.
_API_ADVICE = "retry the same request"


class NoStore(Exception):
    """Neither REDIS_URL nor a running `nudge serve` says where the store is."""


@dataclass(frozen=True)
class StoreAddress:
    url: str
    cluster: bool
    source: str  # where the URL came from, for messages
    embedded: bool = False  # the embedded Redis of a running `nudge serve`

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
    return StoreAddress(
        url, False, f"the embedded Redis of `nudge serve`, from {path}", embedded=True
    )


@asynccontextmanager
async def open_scan(address: StoreAddress) -> AsyncIterator[AccountScan]:
    """An AccountScan on a store that answered a PING.

    Raises NoStore for an unusable URL, StoreUnavailable (naming the address and what to
    check) when the store does not answer, then or while the accounts are read.
    """
    async with _connected(address, reading="the accounts") as client:
        yield AccountScan(client)


@asynccontextmanager
async def open_states(address: StoreAddress) -> AsyncIterator[StateReader]:
    """The prompt path's StateReader on a store that answered a PING, with a tool's
    patience (CLI_TIMEOUT_SECONDS in place of the prompt path's budget).

    Raises NoStore for an unusable URL, StoreUnavailable (naming the address and what to
    check) when the store does not answer, then or while the account is read.
    """
    async with _connected(address, reading="the account") as client:
        yield StateReader(client)


@asynccontextmanager
async def _connected(address: StoreAddress, *, reading: str) -> AsyncIterator[StoreClient]:
    """A client of the store at `address` that answered a PING, closed on the way out.

    The store's errors, at the PING and in the block (which reads `reading`), come out
    as StoreUnavailable in words for the command line.
    """
    try:
        redis = create_redis(
            address.url, cluster=address.cluster, timeout_seconds=CLI_TIMEOUT_SECONDS
        )
    except ValueError as exc:  # redis-py's word for a URL it cannot use
        raise NoStore(
            f"{address}: not a Redis URL ({exc}); write it as redis://HOST:PORT/0"
        ) from None
    client = StoreClient(redis, budget_seconds=CLI_TIMEOUT_SECONDS)
    try:
        try:
            async with client.call("connecting"):
                await redis.ping()
        except StoreUnavailable as exc:
            raise _for_cli(
                exc, context=f"cannot reach the store at {address}", address=address
            ) from exc
        try:
            yield client
        except StoreUnavailable as exc:
            context = f"cannot read {reading} from the store at {address}"
            raise _for_cli(exc, context=context, address=address) from exc
    finally:
        await redis.aclose()


def _for_cli(exc: StoreUnavailable, *, context: str, address: StoreAddress) -> StoreUnavailable:
    """The store's error after `context`, its advice to API clients (retry the same
    request) replaced by what to check; other advice (which keys to inspect) is kept."""
    happened, _, advice = exc.message.rpartition("; ")
    if not happened or _API_ADVICE not in advice:
        return StoreUnavailable(f"{context}: {exc.message}")
    return StoreUnavailable(f"{context}: {happened}; {_what_to_check(address)}")


def _what_to_check(address: StoreAddress) -> str:
    if address.embedded:
        return "is `nudge serve` still running? start it, or set REDIS_URL"
    return "check REDIS_URL, and that the Redis server there is up and accepts commands"
