"""Alembic migrations of Nudge's SQL database (run with `nudge db upgrade`)."""
