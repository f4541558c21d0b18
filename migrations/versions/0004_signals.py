"""Signals (product-qualified leads) raised by triggers, kept as an outbox for delivery.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signals",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("trigger_id", sa.String(128), nullable=False),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("usage", sa.JSON(), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery_state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("delivery_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("id", name="uq_signals_id"),
    )
    op.create_index("ix_signals_type_fired", "signals", ["type", "fired_at"])
    op.create_index("ix_signals_account_fired", "signals", ["account_id", "fired_at"])
    op.create_index("ix_signals_delivery_due", "signals", ["delivery_state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_signals_delivery_due", table_name="signals")
    op.drop_index("ix_signals_account_fired", table_name="signals")
    op.drop_index("ix_signals_type_fired", table_name="signals")
    op.drop_table("signals")
