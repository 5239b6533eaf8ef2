"""What the warning pages and the API read: the filtered list, the summary per unit and per
person, an account's warnings, health and surveys. Everything starts from the caller's
visible accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from kam.accounts import search
from kam.accounts.models import Account
from kam.activities.compliance.measure import unit_level
from kam.core.models import OrgUnit
from kam.core.text import normalise_query
from kam.insight.models import Severity, Warning, WarningState
from kam.insight.warnings.filters import WarningFilter
from kam.insight.warnings.summary import visible_counts

User = get_user_model()
SEVERITIES = [Severity.HIGH, Severity.MEDIUM, Severity.LOW]


def warning_list(*, user: Any, filters: WarningFilter | None = None) -> QuerySet[Warning]:
    """The warnings of the accounts `user` sees, filtered, newest first."""
    filters = filters or WarningFilter()
    qs = Warning.objects.visible_to(user)
    if state := filters.states():
        qs = qs.filter(state=state)
    if filters.rule:
        qs = qs.filter(rule_id=filters.rule)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    if filters.owner:
        qs = qs.filter(account__owner_id=filters.owner)
    if filters.account:
        qs = qs.filter(account_id=filters.account)
    if filters.unit:
        unit = OrgUnit.objects.filter(pk=filters.unit).first()
        qs = qs.filter(account__unit__path__startswith=unit.path) if unit else qs.none()
    if term := normalise_query(filters.q):
        qs = qs.filter(search.matching(term, "account__") | Q(account__code__icontains=term))
    return qs.select_related("account", "account__owner", "account__unit", "rule", "task").order_by("-opened_at", "-id")


def warning_get(*, user: Any, pk: int) -> Warning | None:
    return (Warning.objects.visible_to(user).select_related("account", "account__owner", "rule", "task")
            .filter(pk=pk).first())


@dataclass
class SummaryRow:
    key: int
    name: str
    counts: dict[str, int] = field(default_factory=dict)  # severity → open warnings
    accounts: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def of(self, severity: str) -> int:
        return self.counts.get(severity, 0)

    @property
    def high(self) -> int:
        return self.of(Severity.HIGH)

    @property
    def medium(self) -> int:
        return self.of(Severity.MEDIUM)

    @property
    def low(self) -> int:
        return self.of(Severity.LOW)


def summary(*, user: Any) -> tuple[list[SummaryRow], list[SummaryRow], Any]:
    """Open warnings by severity per unit (the units a viewer's tables show, as on the
    compliance page) and per person (the account's owner), of the accounts `user` sees (read
    from the read model, kam.insight.warnings.summary); and when the figures were true."""
    rows, as_of = visible_counts(user)
    units = list(OrgUnit.objects.order_by("path").values_list("pk", "path", "name"))
    path_of = {pk: path for pk, path, _name in units}
    shown = unit_level(user, units)
    per_unit = {pk: SummaryRow(pk, name) for pk, _path, name in shown}
    per_person: dict[int, SummaryRow] = {}
    for unit, owner, severity, n in rows:
        path = path_of.get(unit)
        for pk, unit_path, _name in shown:
            if path and path.startswith(unit_path):
                per_unit[pk].counts[severity] = per_unit[pk].counts.get(severity, 0) + n
                break
        if owner:
            row = per_person.setdefault(owner, SummaryRow(owner, ""))
            row.counts[severity] = row.counts.get(severity, 0) + n
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=list(per_person))}
    for row in per_person.values():
        row.name = names.get(row.key, str(row.key))
    people = sorted(per_person.values(), key=lambda r: (-r.high, -r.total, r.name))
    return list(per_unit.values()), [p for p in people if p.total], as_of


def account_warnings(*, user: Any, account: Account, recent: int = 10) -> tuple[list[Warning], list[Warning]]:
    """The account's open warnings, and its most recently closed ones."""
    qs = Warning.objects.visible_to(user).filter(account=account).select_related("rule").prefetch_related("actions")
    return list(qs.open().order_by("-opened_at")), list(qs.exclude(state=WarningState.OPEN).order_by("-closed_at")[:recent])
