"""Prompt events (shown, clicked, dismissed, converted) kept for analytics.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompt_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=True),
        sa.Column("trigger_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("prompt_issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_prompt_events_account_created", "prompt_events", ["account_id", "created_at"]
    )
    op.create_index("ix_prompt_events_trigger_type", "prompt_events", ["trigger_id", "type"])


def downgrade() -> None:
    op.drop_index("ix_prompt_events_trigger_type", table_name="prompt_events")
    op.drop_index("ix_prompt_events_account_created", table_name="prompt_events")
    op.drop_table("prompt_events")
