"""Read side for accounts and contacts. Every query here starts from `visible_to(user)`."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from kam.accounts.decision_chain.rules import DecisionChain, decision_chain
from kam.accounts.models import Account, Contact
from kam.core.conf import kam_setting
from kam.core.models import OrgUnit
from kam.core.text import normalise_query

User = get_user_model()

ACCOUNT_SORTS = {
    "name": "name",
    "-name": "-name",
    "code": "code",
    "-code": "-code",
    "updated": "updated_at",
    "-updated": "-updated_at",
    "created": "created_at",
    "-created": "-created_at",
}
DEFAULT_ACCOUNT_SORT = "-updated"


@dataclass
class AccountFilters:
    """One filter definition shared by the web list, the API and exports."""

    q: str = ""
    industry: int | None = None
    region: int | None = None
    owner: int | None = None
    unit: int | None = None
    lifecycle_status: str = ""
    channel: str = ""
    tier: str = ""  # "scheme-code:tier", in the scheme's latest snapshot
    in_pool: bool = False  # only accounts in the public pool (without an owner)
    sort: str = DEFAULT_ACCOUNT_SORT


def _search(qs: QuerySet, q: str) -> QuerySet:
    """Match name, short name, code, USCC, full pinyin or pinyin initials (zgyd → 中国移动)."""
    term = normalise_query(q)
    if not term:
        return qs
    if len(term) == 18 and term.isalnum():
        return qs.filter(Q(uscc=term.upper()) | Q(search_text__contains=term))
    return qs.filter(search_text__contains=term)


def tier_choices() -> list[tuple[str, str]]:
    """("scheme:tier", label) for every active scheme that has a snapshot (one query)."""
    from kam.tiering.models import Scheme, SnapshotState

    tiered = Scheme.objects.filter(is_active=True, snapshots__state=SnapshotState.DONE).distinct().order_by("id")
    return [(f"{scheme.code}:{code}", f"{scheme.display_name} · {scheme.tier_label(code)}")
            for scheme in tiered for code in scheme.tier_codes]


def _in_tier(qs: QuerySet, value: str) -> QuerySet:
    from kam.tiering.models import Scheme
    from kam.tiering.selectors import latest_snapshot

    code, _sep, tier = value.partition(":")
    scheme = Scheme.objects.filter(code=code, is_active=True).first()
    snapshot = latest_snapshot(scheme) if scheme else None
    if snapshot is None:
        return qs.none()
    return qs.filter(pk__in=snapshot.entries.filter(tier=tier).values("account_id"))


def account_list(*, user, filters: AccountFilters | None = None) -> QuerySet[Account]:
    filters = filters or AccountFilters()
    qs = Account.objects.visible_to(user)
    qs = _search(qs, filters.q)
    if filters.industry:
        qs = qs.filter(industry_id=filters.industry)
    if filters.region:
        qs = qs.filter(region_id=filters.region)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.in_pool:
        qs = qs.filter(owner__isnull=True)
    if filters.unit:
        unit = OrgUnit.objects.filter(pk=filters.unit).first()
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
    if filters.lifecycle_status:
        qs = qs.filter(lifecycle_status=filters.lifecycle_status)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.tier:
        qs = _in_tier(qs, filters.tier)
    order = ACCOUNT_SORTS.get(filters.sort, ACCOUNT_SORTS[DEFAULT_ACCOUNT_SORT])
    return qs.select_related("owner", "unit", "industry", "region").order_by(order, "-id")


def account_get(*, user, pk: int) -> Account | None:
    return (
        Account.objects.visible_to(user)
        .select_related("owner", "unit", "industry", "region", "parent", "created_by")
        .filter(pk=pk)
        .first()
    )


def account_autocomplete(*, user, q: str, limit: int | None = None) -> QuerySet[Account]:
    limit = limit or kam_setting("AUTOCOMPLETE_LIMIT")
    return _search(Account.objects.visible_to(user), q).only("id", "code", "name").order_by("name")[:limit]


def account_contacts(*, user, account: Account) -> QuerySet[Contact]:
    return (
        Contact.objects.visible_to(user)
        .filter(account=account)
        .select_related("relationship_owner", "successor")
        .order_by("status", "name", "id")
    )


def account_decision_chain(*, user, account: Account) -> DecisionChain:
    return decision_chain(
        account_contacts(user=user, account=account),
        min_active_contacts=kam_setting("MIN_ACTIVE_CONTACTS"),
    )


def contact_get(*, user, pk: int) -> Contact | None:
    return Contact.objects.visible_to(user).select_related("account", "relationship_owner").filter(pk=pk).first()


def contact_list(*, user, account: Account | None = None) -> QuerySet[Contact]:
    qs = Contact.objects.visible_to(user)
    if account is not None:
        qs = qs.filter(account=account)
    return qs.select_related("account", "relationship_owner").order_by("account__code", "name", "id")


def contact_search(*, user, q: str, account: Account | None = None, limit: int | None = None) -> QuerySet[Contact]:
    limit = limit or kam_setting("AUTOCOMPLETE_LIMIT")
    qs = Contact.objects.visible_to(user)
    if account is not None:
        qs = qs.filter(account=account)
    if term := normalise_query(q):
        qs = qs.filter(search_text__contains=term)
    return qs.select_related("account").order_by("name")[:limit]


def colleagues(*, user) -> QuerySet:
    """Active users `user` may pick as team member or relationship owner.

    HQ and admins pick anyone; everyone else picks within their own branch (the unit
    directly under HQ), since account teams cross offices but are staffed by the branch.
    """
    qs = User.objects.filter(is_active=True, unit__isnull=False).select_related("unit")
    if user.sees_everything:
        return qs
    branch = user.unit
    while branch is not None and branch.parent_id is not None and branch.parent.parent_id is not None:
        branch = branch.parent
    return qs.filter(unit__path__startswith=branch.path) if branch else qs.filter(pk=user.pk)


def user_autocomplete(*, user, q: str, limit: int | None = None) -> QuerySet:
    limit = limit or kam_setting("AUTOCOMPLETE_LIMIT")
    qs = colleagues(user=user)
    if term := normalise_query(q):
        qs = qs.filter(Q(username__icontains=term) | Q(display_name__icontains=term))
    return qs.order_by("username")[:limit]


@dataclass
class FieldChange:
    field: str
    label: str
    old: object
    new: object


@dataclass
class HistoryRow:
    record: object
    subject: str
    changes: list[FieldChange]


def _display(model, name: str, value):
    field = model._meta.get_field(name)
    if value is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    return value


def merged_lineage(account: Account) -> list[int]:
    """The account's id and those of every account merged into it, however indirectly."""
    ids, frontier = [account.pk], [account.pk]
    while frontier:
        frontier = list(Account.objects.filter(merged_into__in=frontier).values_list("pk", flat=True))
        ids += frontier
    return ids


def account_history(*, account: Account, limit: int = 200) -> list[HistoryRow]:
    """Field changes of the account and its contacts, newest first, with field labels.

    Records are read oldest first and diffed against the previous record of the same
    object in memory, so the whole tab costs two queries.
    """
    rows: list[HistoryRow] = []
    ids = merged_lineage(account)
    for model, records in (
        (Account, Account.history.filter(id__in=ids).select_related("history_user").order_by("history_date", "history_id")),
        (
            Contact,
            Contact.history.filter(account_id__in=ids)
            .select_related("history_user")
            .order_by("id", "history_date", "history_id"),
        ),
    ):
        previous: dict[int, object] = {}
        for record in records:
            prev = previous.get(record.id)
            changes = record.diff_against(prev).changes if prev is not None else []
            own = model is Account and record.id == account.pk
            subject = str(model._meta.verbose_name) + ("" if own else f" {record.name}")
            rows.append(HistoryRow(record=record, subject=subject, changes=[
                FieldChange(
                    field=c.field, label=str(model._meta.get_field(c.field).verbose_name),
                    old=_display(model, c.field, c.old), new=_display(model, c.field, c.new),
                )
                for c in changes
            ]))
            previous[record.id] = record
    rows.sort(key=lambda r: r.record.history_date, reverse=True)
    return rows[:limit]


def account_subsidiaries(*, user, account: Account) -> QuerySet[Account]:
    return Account.objects.visible_to(user).filter(parent=account).select_related("owner").order_by("name")[:50]


BIN_KINDS = ("account", "contact", "opportunity")


@dataclass
class BinEntry:
    """One row of the recycle bin page, its export and the API: an account (with the contacts
    and opportunities that went with it), or a contact or opportunity deleted on its own."""

    kind: str
    pk: int
    name: str
    code: str  # the account's code (of the item's account for a contact or opportunity)
    account_id: int
    account_name: str
    owner: object  # the account's owner (None in the public pool)
    unit: object
    deleted_by: object
    deleted_at: object
    days_left: int
    contacts: int = 0  # binned with the account
    opportunities: int = 0
    kind_label: str = ""


def recycle_bin(*, user, kind: str = "") -> list[BinEntry]:
    """What the user may restore: deleted accounts, contacts and opportunities of accounts they
    would see, newest deletion first, while within RECYCLE_BIN_DAYS. The bin holds what was
    deleted in the last few days, so the three reads are small; at most EXPORT_MAX_ROWS of each."""
    from django.db.models import Count
    from django.db.models import Q as _Q

    from kam.accounts.recycle.clock import days_left
    from kam.sales.models import Opportunity

    cap = kam_setting("EXPORT_MAX_ROWS")
    now = timezone.now()
    entries: list[BinEntry] = []
    if kind in ("", "account"):
        accounts = (Account.objects.in_recycle_bin_of(user).select_related("owner", "unit", "deleted_by")
                    .annotate(n_contacts=Count("contacts", filter=_Q(contacts__deleted_with_account=True),
                                               distinct=True),
                              n_opportunities=Count("opportunities",
                                                    filter=_Q(opportunities__deleted_with_account=True),
                                                    distinct=True))
                    .order_by("-deleted_at", "-id")[:cap])
        entries += [BinEntry("account", a.pk, a.name, a.code, a.pk, a.name, a.owner, a.unit, a.deleted_by,
                             a.deleted_at, days_left(a.deleted_at, now), a.n_contacts, a.n_opportunities,
                             str(Account._meta.verbose_name)) for a in accounts]
    for name, model in (("contact", Contact), ("opportunity", Opportunity)):
        if kind not in ("", name):
            continue
        rows = (model.objects.in_recycle_bin_of(user)
                .select_related("account__owner", "account__unit", "deleted_by").order_by("-deleted_at", "-id")[:cap])
        entries += [BinEntry(name, r.pk, r.name, r.account.code, r.account_id, r.account.name, r.account.owner,
                             r.account.unit, r.deleted_by, r.deleted_at, days_left(r.deleted_at, now),
                             kind_label=str(model._meta.verbose_name)) for r in rows]
    entries.sort(key=lambda e: (e.deleted_at, e.pk), reverse=True)
    return entries
