"""Request and response shapes of the accounts API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from ninja import Field, ModelSchema, Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from kam.accounts.models import Account, AccountTeamMember, Contact
from kam.api.paging import PageFields
from kam.core.filters import CountParam, FlagParam, IdParam, IsoDate  # noqa: F401 (re-exported)
from kam.core.validators import clean_name

# The fields a client may write; bookkeeping (unit, version, created_by, keys) is never among them.
ACCOUNT_WRITABLE = [
    "code", "name", "short_name", "uscc", "legal_representative", "enterprise_type", "industry",
    "region", "address", "phone", "website", "bank_name", "bank_account", "staff_size", "parent",
    "market_region", "sales_capacity", "financial_status", "growth_potential", "key_technology",
    "asset_scale", "annual_revenue", "problems", "advantages", "future_strategy",
    "brand_reputation", "trade_terms", "bank_rating", "credit_limit", "payment_term_days",
    "rolling_credit", "receivables", "receivables_over_90_days", "overdue_amount", "prepaid_only",
    "owner", "channel", "lifecycle_status", "relationship_stage", "signed_on", "notes",
]
CONTACT_WRITABLE = [
    "name", "title", "department", "mobile", "office_phone", "email", "wechat", "birthday",
    "decision_role", "attitude", "influence", "relationship_strength", "relationship_owner",
    "is_key", "status", "left_on", "successor", "notes",
]


def _holds_null_character(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_null_character(k) or _holds_null_character(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_null_character(v) for v in value)
    return False


class Input(Schema):
    """What a client sends, in a body or a query string. No text in it may hold a NUL
    character: the forms refuse one, and PostgreSQL cannot take it as text (it would end in a
    server error, not a 422)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_null_characters(cls, value: Any) -> Any:
        if _holds_null_character(value):
            raise ValueError("must not contain null characters")
        return value


class Ref(Schema):
    id: int
    name: str


# Money in 元 with two places: a JSON number or a decimal string such as "12345.60".
Money = Annotated[
    Decimal,
    Field(max_digits=16, decimal_places=2),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^[+-]?\d{1,14}(\.\d{1,2})?$"}]}),
]
# Ids, counts and flags take JSON numbers and booleans only: "5" or 0 is refused, not guessed.
def _json_number_only(value: Any) -> Any:
    if isinstance(value, (str, bool)):
        raise ValueError("must be a JSON number")
    return value


Id = Annotated[int, BeforeValidator(_json_number_only), Field(ge=1, le=2**63 - 1)]
Count = Annotated[int, BeforeValidator(_json_number_only), Field(ge=0, le=2**31 - 1)]
# Every boolean of a body: JSON true or false; 0, 1, "yes" or "true" is refused, not guessed.
Flag = StrictBool
# In paths and query strings every value arrives as text; only the range is checked.
# The query-string types are the filters' (kam.core.filters), shared with the pages.



def _one_line(value: str) -> str:
    try:
        return clean_name(value)
    except DjangoValidationError as exc:
        raise PydanticCustomError("name_characters", exc.messages[0]) from None


# A name (of an account, contact, lead, opportunity…): spaces around it dropped, no tab,
# line break or other control character in it — the rule of kam.core.validators.clean_name.
Name = Annotated[str, AfterValidator(_one_line)]


class AccountPatch(ModelSchema, Input):
    """Any subset of the writable fields; only the fields sent are changed.

    Foreign keys are ids and may be sent as `industry` or `industry_id`.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    version: Count | None = Field(None, description="The version read; a stale one gives 412.")
    lifecycle_reason: str | None = Field(None, max_length=60,
                                         description="why the customer state changes by hand; required when it does")
    asset_scale: Money | None = None
    annual_revenue: Money | None = None
    credit_limit: Money | None = None
    rolling_credit: Money | None = None
    receivables: Money | None = None
    receivables_over_90_days: Money | None = None
    overdue_amount: Money | None = None
    staff_size: Count | None = None
    payment_term_days: Count | None = None
    prepaid_only: Flag | None = None
    name: Annotated[Name, Field(max_length=200)] | None = None
    short_name: Annotated[Name, Field(max_length=50)] | None = None
    industry: Id | None = Field(None, alias="industry_id")
    region: Id | None = Field(None, alias="region_id")
    parent: Id | None = Field(None, alias="parent_id")
    owner: Id | None = Field(None, alias="owner_id")
    signed_on: IsoDate | None = None

    class Meta:
        model = Account
        fields = ACCOUNT_WRITABLE
        fields_optional = "__all__"


class AccountCreate(AccountPatch):
    name: Annotated[Name, Field(min_length=1, max_length=200)]
    confirm_similar: Flag = Field(False, description="Create even though very similar names exist.")


class AccountItem(Schema):
    id: int
    code: str
    name: str
    short_name: str
    uscc: str | None
    industry: Ref | None
    region: Ref | None
    owner: Ref | None = Field(None, description="None while the account is in the public pool.")
    unit: Ref
    channel: str
    lifecycle_status: str
    updated_at: datetime


class AccountPage(PageFields):
    items: list[AccountItem]


class TeamMemberOut(Schema):
    id: int
    user: Ref
    team_role: str


class TeamMemberIn(Input):
    model_config = ConfigDict(extra="forbid")
    user: Id
    team_role: str


class DecisionChainOut(Schema):
    active_contacts: int
    has_decision_maker: bool
    single_threaded: bool
    departed_without_successor: list[int]


def ref(obj: Model | None) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj)}


class AccountDetail(ModelSchema):
    industry: Ref | None
    region: Ref | None
    owner: Ref | None = Field(None, description="None while the account is in the public pool.")
    unit: Ref
    parent: Ref | None
    team: list[TeamMemberOut]
    decision_chain: DecisionChainOut

    @staticmethod
    def resolve_industry(obj: Account) -> dict[str, Any] | None:
        return ref(obj.industry)

    @staticmethod
    def resolve_region(obj: Account) -> dict[str, Any] | None:
        return ref(obj.region)

    @staticmethod
    def resolve_owner(obj: Account) -> dict[str, Any] | None:
        return ref(obj.owner)

    @staticmethod
    def resolve_unit(obj: Account) -> dict[str, Any] | None:
        return ref(obj.unit)

    @staticmethod
    def resolve_parent(obj: Account) -> dict[str, Any] | None:
        return ref(obj.parent)

    class Meta:
        model = Account
        fields = ["id", *[f for f in ACCOUNT_WRITABLE if f not in {"industry", "region", "owner", "parent"}],
                  "pooled_at", "version", "created_at", "updated_at"]


class ContactPatch(ModelSchema, Input):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    version: Count | None = None
    is_key: Flag | None = None
    name: Annotated[Name, Field(max_length=50)] | None = None
    relationship_owner: Id | None = Field(None, alias="relationship_owner_id")
    successor: Id | None = Field(None, alias="successor_id")
    birthday: IsoDate | None = None
    left_on: IsoDate | None = None

    class Meta:
        model = Contact
        fields = CONTACT_WRITABLE
        fields_optional = "__all__"


class ContactCreate(ContactPatch):
    name: Annotated[Name, Field(min_length=1, max_length=50)]


class ContactOut(ModelSchema):
    account: int = Field(..., alias="account_id")
    relationship_owner: int | None = Field(None, alias="relationship_owner_id")
    successor: int | None = Field(None, alias="successor_id")

    class Meta:
        model = Contact
        fields = ["id", *[f for f in CONTACT_WRITABLE if f not in {"relationship_owner", "successor"}],
                  "version", "created_at", "updated_at"]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """The error answers an operation declares: those every call may get (400, 401, 422) and `codes`."""
    return {code: ErrorOut for code in sorted({400, 401, 422, *codes})}


__all__ = [
    "AccountCreate", "AccountDetail", "AccountItem", "AccountPage", "AccountPatch", "ContactCreate",
    "ContactOut", "ContactPatch", "ErrorOut", "errors", "TeamMemberIn", "TeamMemberOut", "date", "Decimal",
    "AccountTeamMember",
]
