"""Settings from the environment, built by `load_settings()` and passed down; never at import."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.engine import parse_duration

MIN_SECRET_LENGTH = 32


# A browser origin: scheme, host, optional port; no path.
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


# A rate limit as written in a setting: requests per period.
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*$")
_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    period: str  # second, minute, hour or day

    @property
    def per_seconds(self) -> int:
        return _PERIODS[self.period]

    def __str__(self) -> str:
        return f"{self.count}/{self.period}"


def parse_rate(text: str) -> Rate | None:
    """`120/minute` (or second, hour, day) as a Rate; `0` as None, the limit turned off."""
    if text.strip() == "0":
        return None
    match = _RATE.match(text)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(
            f'"{text}" is not a rate; write requests per period such as 120/minute '
            "(second, minute, hour or day), or 0 to turn the limit off"
        )
    return Rate(int(match.group(1)), match.group(2))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", frozen=True, populate_by_name=True
    )

    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REDIS_URL"),
        description="Where the counters live. Unset: an embedded redis-server under data_dir.",
    )
    redis_cluster: bool = Field(
        default=False,
        validation_alias=AliasChoices("NUDGE_REDIS_CLUSTER"),
        description="Treat REDIS_URL as a Redis Cluster node.",
    )
    # Before database_url: its default is built from the validated data_dir.
    data_dir: Path = Field(default=Path("var"), validation_alias=AliasChoices("NUDGE_DATA_DIR"))
    database_url: str = Field(
        default_factory=lambda values: f"sqlite:///{values['data_dir'] / 'nudge.db'}",
        validation_alias=AliasChoices("DATABASE_URL"),
        description="Unset: SQLite in data_dir, so two data directories never share a database.",
    )
    rules_dir: Path = Field(default=Path("rules"), validation_alias=AliasChoices("NUDGE_RULES_DIR"))
    rules_watch: bool = Field(
        default=True,
        validation_alias=AliasChoices("NUDGE_RULES_WATCH"),
        description="Reload the rules when a rule file under rules_dir changes.",
    )
    rules_debounce_ms: int = Field(
        default=500,
        ge=10,
        le=60_000,
        validation_alias=AliasChoices("NUDGE_RULES_DEBOUNCE_MS"),
        description="Reload once the rule files have been quiet this long after a change.",
    )
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(), validation_alias=AliasChoices("NUDGE_API_KEYS")
    )
    signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NUDGE_SIGNING_SECRET")
    )
    redis_timeout_ms: int = Field(
        default=50, ge=1, le=60_000, validation_alias=AliasChoices("NUDGE_REDIS_TIMEOUT_MS")
    )
    dedupe_ttl_hours: int = Field(
        default=48,
        ge=24,
        le=24 * 90,
        validation_alias=AliasChoices("NUDGE_DEDUPE_TTL_HOURS"),
        description="How long a usage event id is remembered (at least 24 hours).",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias=AliasChoices("NUDGE_CORS_ORIGINS")
    )
    log_level: str = Field(default="info", validation_alias=AliasChoices("NUDGE_LOG_LEVEL"))
    header_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=600,
        validation_alias=AliasChoices("NUDGE_HEADER_TIMEOUT_SECONDS"),
        description="nudge serve: a request's headers must arrive within this time (408).",
    )
    body_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=600,
        validation_alias=AliasChoices("NUDGE_BODY_TIMEOUT_SECONDS"),
        description="A request's body must arrive within this time (408).",
    )
    client_rate_limit: Annotated[Rate | None, NoDecode] = Field(
        default=Rate(120, "minute"),
        validation_alias=AliasChoices("NUDGE_CLIENT_RATE_LIMIT"),
        description="Requests per client token's account and user on the browser routes; "
        "0 turns it off. Counted per process.",
    )
    auth_failure_limit: Annotated[Rate | None, NoDecode] = Field(
        default=Rate(30, "minute"),
        validation_alias=AliasChoices("NUDGE_AUTH_FAILURE_LIMIT"),
        description="Requests with a missing or bad credential per client address; "
        "0 turns it off. Counted per process.",
    )
    client_token_max_ttl: Annotated[timedelta | None, NoDecode] = Field(
        default=timedelta(hours=24),
        validation_alias=AliasChoices("NUDGE_CLIENT_TOKEN_MAX_TTL"),
        description="A client token whose exp lies further ahead is refused; 0 turns it off.",
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(key.strip() for key in value.split(",") if key.strip())
        return value

    @field_validator("client_rate_limit", "auth_failure_limit", mode="before")
    @classmethod
    def _rate(cls, value: object) -> object:
        return parse_rate(value) if isinstance(value, str) else value

    @field_validator("client_token_max_ttl", mode="before")
    @classmethod
    def _max_ttl(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if value.strip() == "0":
            return None
        duration = parse_duration(value)
        if not duration:
            raise ValueError("write a duration such as 15m, 24h or 7d, or 0 to turn it off")
        return duration

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        origins = tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
        for origin in origins:
            if origin != "*" and ORIGIN.match(origin) is None:
                raise ValueError(
                    f'"{origin}" is not an origin; write scheme://host[:port] such as '
                    "https://app.example.com, comma-separated, or * for any"
                )
        return origins

    @field_validator("signing_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"NUDGE_SIGNING_SECRET must be at least {MIN_SECRET_LENGTH} characters; "
                'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        return value

    @field_validator("redis_url", "signing_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def embedded(self) -> bool:
        """No REDIS_URL: the service runs its own redis-server and may generate secrets."""
        return self.redis_url is None

    def credentials_problem(self) -> str | None:
        """Why these settings cannot start a service, as far as keys go; None if they can."""
        if self.embedded:
            return None  # the embedded default generates what is missing
        missing = [
            name
            for name, value in (
                ("NUDGE_API_KEYS", self.api_keys),
                ("NUDGE_SIGNING_SECRET", self.signing_secret),
            )
            if not value
        ]
        if not missing:
            return None
        return (
            f"{' and '.join(missing)} must be set when REDIS_URL is set, so that every "
            "replica accepts the same keys and tokens"
        )

    @property
    def redis_timeout_seconds(self) -> float:
        return self.redis_timeout_ms / 1000


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with `overrides` (by field name) on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
