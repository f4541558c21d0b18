"""Alembic environment: runs online against the engine Nudge hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

engine: Engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
