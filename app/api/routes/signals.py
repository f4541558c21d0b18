from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.api.auth import SecretCaller
from app.api.deps import SignalsDep
from app.api.query import openapi_parameters, parse_query
from app.api.responses import V1_ERRORS
from app.api.schemas.signals import SignalQuery, SignalsOut

router = APIRouter(prefix="/v1/signals", tags=["signals"], responses=V1_ERRORS)


async def _signal_query(_caller: SecretCaller, request: Request) -> SignalQuery:
    # Depends on the caller so that credentials are checked before the query: a client
    # token gets its 403 whatever it asks.
    return parse_query(SignalQuery, request)


@router.get(
    "",
    response_model=SignalsOut,
    summary="Signals (product-qualified leads), the first stored first, a page at a time",
    openapi_extra={"parameters": openapi_parameters(SignalQuery)},
)
async def get_signals(
    query: Annotated[SignalQuery, Depends(_signal_query)], signals: SignalsDep
) -> SignalsOut:
    page = await signals.page(
        type=query.type, since=query.since, cursor=query.cursor, limit=query.limit
    )
    return SignalsOut.of(page)
