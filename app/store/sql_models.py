"""The relational model: accounts, the prompt events reported by frontends, the
rule set versions that went live, and the signals (product-qualified leads) rules raised."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AccountRow(Base):
    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    plan: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PromptEventRow(Base):
    __tablename__ = "prompt_events"
    __table_args__ = (
        Index("ix_prompt_events_account_created", "account_id", "created_at"),
        Index("ix_prompt_events_trigger_type", "trigger_id", "type"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    account_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128))
    trigger_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(16))
    prompt_issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RuleVersionRow(Base):
    """A rule set version, recorded the first time any process made it live."""

    __tablename__ = "rule_versions"
    __table_args__ = (UniqueConstraint("version", name="uq_rule_versions_version"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    version: Mapped[str] = mapped_column(String(64))
    # [{"path": relative to the rules directory, "sha256": of its content}], sorted by path
    files: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    triggers: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SignalRow(Base):
    """A signal a trigger raised for an account, kept as an outbox.

    Rows are only ever added and then moved through delivery: a deliverer takes the
    pending rows that are due (`delivery_state`, `next_attempt_at`) in `seq` order and
    sends each with its `id`, which stays the same on every attempt, so a receiver that
    sees it twice can drop the repeat.
    """

    __tablename__ = "signals"
    __table_args__ = (
        UniqueConstraint("id", name="uq_signals_id"),
        Index("ix_signals_type_fired", "type", "fired_at"),
        Index("ix_signals_account_fired", "account_id", "fired_at"),
        Index("ix_signals_delivery_due", "delivery_state", "next_attempt_at"),
    )

    # The order signals were stored in: the stable order of listings and of delivery.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(36))  # a UUID: the receivers' idempotency key
    type: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str] = mapped_column(String(128))
    trigger_id: Mapped[str] = mapped_column(String(128))
    plan: Mapped[str] = mapped_column(String(64))
    # Every metric's usage when it fired: {metric: value}, null where there is none.
    usage: Mapped[dict[str, float | None]] = mapped_column(JSON)
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivery_state: Mapped[str] = mapped_column(String(16), server_default="pending")
    delivery_attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    # When a deliverer may try next; a new signal is due at once (its fired_at).
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
