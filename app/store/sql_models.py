"""The relational model: accounts, the prompt events reported by frontends, and the
rule set versions that went live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, UniqueConstraint
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
