"""The KAM settings, typed and checked once.

`settings.KAM` (kam/settings.py) holds the domain defaults with their documentation; each
may be replaced by an environment variable `KAM_<KEY>` or by a local settings module.
`config()` turns that dict into one frozen, typed object: numbers are numbers, the lists and
maps that are written as text ("contact:10,design:30", "visit,meeting") arrive parsed, and a
value that breaks its rule raises `ConfigError` with one line naming the variable and the rule.
`kam` commands and the web server check it at start-up (`check_config`), so a typo stops
`kam serve` before anything is written rather than failing a request later.

The object is cached until `settings.KAM` is replaced (Django's setting_changed signal, which
the tests' `settings` fixture sends).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator


class ConfigError(Exception):
    """A KAM setting breaks its rule; the message is one line naming it."""


def _split(value: Any) -> Any:
    """"a, b,c" → ("a", "b", "c"); an already split value passes through."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _mapping(value: Any) -> Any:
    """"a:1, b:2" → {"a": "1", "b": "2"} (the values are then typed by the field)."""
    if not isinstance(value, str):
        return value
    pairs: dict[str, str] = {}
    for part in _split(value):
        key, sep, number = part.partition(":")
        if not sep or not key.strip() or not number.strip():
            raise ValueError(f'write "key:number" pairs separated by commas (not "{part}")')
        pairs[key.strip()] = number.strip()
    return pairs


Words = Annotated[tuple[str, ...], BeforeValidator(_split)]
Numbers = Annotated[tuple[int, ...], BeforeValidator(_split)]
Counts = Annotated[dict[str, Annotated[int, Field(ge=0)]], BeforeValidator(_mapping)]
Whole = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]
Seconds = Annotated[float, Field(gt=0)]
Hours = Annotated[Decimal, Field(gt=0)]
Yuan = Annotated[Decimal, Field(ge=0)]


class KamConfig(BaseModel):
    """Every KAM setting with its type and rule; see kam/settings.py for what each means."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    PAGE_SIZE: Whole
    PAGE_SIZE_MAX: Whole
    PAGE_NUMBERED_MAX: Whole
    PAGE_COUNT_LIMIT: Whole
    BOARD_COLUMN_SIZE: Whole
    AUTOCOMPLETE_LIMIT: Whole
    SIMILAR_NAME_RATIO: Annotated[float, Field(gt=0, le=1)]
    MIN_ACTIVE_CONTACTS: Whole
    KEY_CONTACT_HANDOVER_HOURS: Whole
    RECYCLE_BIN_DAYS: Whole
    PASSWORD_MIN_LENGTH: Annotated[int, Field(ge=8)]
    SESSION_IDLE_SECONDS: Whole
    SESSION_ABSOLUTE_SECONDS: Whole
    LOGIN_FAILURE_LIMIT: Whole
    LOGIN_IP_FAILURE_LIMIT: Whole
    LOGIN_USERNAME_FAILURE_LIMIT: Whole
    LOGIN_COOLOFF_MINUTES: Whole
    LOGIN_TRUSTED_DAYS: Count
    API_TOKEN_DAYS: Whole
    API_TOKEN_MAX_DAYS: Whole
    API_TOKEN_TOUCH_SECONDS: Count
    AUDIT_RETENTION_DAYS: Whole
    CSP_REPORT_MAX_BYTES: Whole
    CSP_REPORTS_PER_MINUTE: Whole
    IMPORT_BATCH_ROWS: Whole
    IMPORT_SINGLE_TRANSACTION_ROWS: Count
    IMPORT_MAX_ROWS: Whole
    IMPORT_MAX_BYTES: Whole
    IMPORT_MAX_COLUMNS: Whole
    IMPORT_XLSX_MAX_MEMBERS: Whole
    IMPORT_XLSX_MAX_UNPACKED_BYTES: Whole
    IMPORT_XLSX_MAX_RATIO: Whole
    IMPORT_XLSX_RATIO_MIN_BYTES: Count
    IMPORT_SHEET_MAX_COLUMNS: Whole
    IMPORT_SHEET_MAX_CELLS: Whole
    IMPORT_XLSX_MAX_SHARED_STRINGS: Whole
    IMPORT_XLSX_MAX_TEXT_BYTES: Whole
    IMPORT_PREVIEW_ISSUES: Whole
    IMPORT_STALE_SECONDS: Whole
    API_REVENUE_MAX_LINES: Whole
    NIGHTLY_AT: dt.time
    NIGHTLY_TASKS: Words
    WORKER_PROCESSES: Count
    WORKER_HEARTBEAT_SECONDS: Seconds
    WORKER_STALE_SECONDS: Seconds
    WORKER_RECORD_DAYS: Whole
    SERVE_RESTART_MIN_SECONDS: Seconds
    SERVE_RESTART_MAX_SECONDS: Seconds
    SERVE_RESTART_RESET_SECONDS: Seconds
    SERVE_STOP_GRACE_SECONDS: Annotated[float, Field(ge=0)]
    EXPORT_MAX_ROWS: Whole
    ACTIVITY_FUTURE_TOLERANCE_MINUTES: Count
    ACTIVITY_MAX_AGE_DAYS: Whole
    TIMELINE_LENGTH: Whole
    HOME_TASKS: Whole
    CADENCE_VISIT_KINDS: Words
    CADENCE_CALL_KINDS: Words
    CADENCE_REPORT_KINDS: Words
    CADENCE_EXECUTIVE_KINDS: Words
    CADENCE_SCHEME: Annotated[str, Field(min_length=1)]
    CADENCE_REMINDER_DAYS: Count
    SAMPLE_CALL_SCHEME: Annotated[str, Field(min_length=1)]
    SAMPLE_CALL_TIERS: Words
    SAMPLE_CALLS_PER_OWNER: Count
    COMPLIANCE_OVERDUE_ROWS: Whole
    STAGE_STABLE_AFTER_MONTHS: Whole
    STAGE_DEEP_AFTER_MONTHS: Whole
    STAGE_SYMBIOSIS_AFTER_MONTHS: Whole
    PLAYBOOK_HORIZON_DAYS: Whole
    PLAYBOOK_PAST_DAYS: Count
    PLAN_DAILY_MAX_VISITS: Whole
    PLAN_MIN_GAP_DAYS: Count
    PLAN_KEY_ACCOUNT_VISITS_PER_MONTH: Whole
    STAFFING_HOURS_PER_VISIT: Hours
    STAFFING_HOURS_PER_CALL: Hours
    STAFFING_HOURS_PER_REPORT: Hours
    STAFFING_HOURS_PER_MANAGER_YEAR: Hours
    STAFFING_GRADE: Annotated[Decimal, Field(gt=0, le=5)]
    STAFFING_SUPPORT_SHARE: Annotated[Decimal, Field(ge=0, le=1)]
    STAFFING_PEAK_SHARE: Annotated[Decimal, Field(ge=0, le=5)]
    STAFFING_CHURN_SHARE: Annotated[Decimal, Field(ge=0, le=1)]
    LEAD_FOLLOW_UP_HOURS: Whole
    LEAD_REASSIGN_HOURS: Whole
    POOL_IDLE_DAYS: Whole
    POOL_IDLE_DAYS_BY_TIER: Counts
    POOL_EXCLUDED_TIERS: Words
    POOL_NOTICE_DAYS: Count
    POOL_CLAIM_LIMIT: Count
    OPPORTUNITY_STAGE_PROBABILITIES: Annotated[dict[str, Annotated[int, Field(ge=0, le=100)]],
                                               BeforeValidator(_mapping)]
    REVIEW_MIN_AMOUNT: Yuan
    REVIEW_SENIOR_AMOUNT: Yuan
    REVIEW_SENIOR_AFTER_DAYS: Count  # 0: no automatic escalation
    REVIEW_FOLLOW_UP_DAYS: Count
    INSIGHT_COUNT_MODEL: Annotated[str, Field(pattern="^(bgnbd|paretonbd)$")]
    INSIGHT_PERIOD: Annotated[str, Field(pattern="^(week|month)$")]
    INSIGHT_HISTORY_MONTHS: Whole
    INSIGHT_HORIZON_MONTHS: Whole
    INSIGHT_CLV_MONTHS: Whole
    INSIGHT_MONTHLY_DISCOUNT: Annotated[Decimal, Field(ge=0, lt=1)]
    CHURN_BASELINE_MONTHS: Whole
    CHURN_ACTIVE_MONTHS: Whole
    HEALTH_WEIGHTS: Counts
    HEALTH_WARNING_PENALTY: Counts
    HEALTH_BANDS: Numbers
    WARNING_TASK_DUE_DAYS: Count
    WARNING_QUIET_DAYS: Count
    READ_MODELS: bool
    DEMO_PASSWORD: str

    @field_validator("HEALTH_BANDS")
    @classmethod
    def _bands(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(value) != 2 or not 100 >= value[0] > value[1] >= 0:
            raise ValueError("write two scores from 100 down to 0, green first (e.g. 70,40)")
        return value

    @field_validator("HEALTH_WEIGHTS")
    @classmethod
    def _weights(cls, value: dict[str, int]) -> dict[str, int]:
        if not value or sum(value.values()) <= 0:
            raise ValueError("at least one part needs a weight above 0")
        return value


def _rule(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    shown = repr(error["input"]) if not isinstance(error.get("input"), dict) else ""
    return f"{message} (got {shown})" if shown else message


def _parse(raw: dict[str, Any]) -> KamConfig:
    try:
        return KamConfig.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "?"
        if error["type"] == "extra_forbidden":
            raise ConfigError(f"KAM_{key}: not a KAM setting") from None
        if error["type"] == "missing":
            raise ConfigError(f"KAM_{key}: missing from settings.KAM") from None
        raise ConfigError(f"KAM_{key}: {_rule(error)}") from None


@lru_cache(maxsize=1)
def _cached(identity: int) -> KamConfig:
    return _parse(settings.KAM)


def config() -> KamConfig:
    """The typed KAM settings (raises ConfigError when a value breaks its rule)."""
    return _cached(id(settings.KAM))


def check_config() -> None:
    """Stop with one line when a setting is bad: used by `kam` commands and the web server."""
    config()


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting == "KAM":
        _cached.cache_clear()

