"""Importing revenue lines: `account` (code or USCC), `date` or `period`, `amount`,
optional `margin` (profit) or `cost` (the margin is then amount − cost), `quantity`, `product`.

A line is identified by account, date and product: lines repeating that key in one
file are summed, and a line already in the database is replaced, never added again.
Monthly aggregates are rebuilt for the touched account-months in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.accounts import search
from kam.accounts.importers import ids_by_code_or_uscc
from kam.accounts.lifecycle import became_ordered_on, lifecycle_follow
from kam.accounts.models import Account, LifecycleStatus
from kam.core import summaries
from kam.core.bulk import chunks, insert_rows
from kam.core.text import normalise_name, search_key
from kam.imports import cells
from kam.imports.columns import Column, header_key
from kam.imports.engine import Action, Importer, Row, Severity
from kam.revenue.models import MonthlyRevenue, RevenueFact


def a_period(value: Any) -> date:
    """2026-03 / 2026/3 / 202603 / 2026年3月 / a date → the first day of that month."""
    if isinstance(value, date):
        return cells.a_date(value).replace(day=1)
    raw = unicodedata.normalize("NFKC", cells.as_text(value)).replace(" ", "")
    match = re.fullmatch(r"(\d{4})(?:[-/.年]?)(\d{1,2})月?", raw)
    if match and 1 <= int(match[2]) <= 12 and 1900 <= int(match[1]) <= 2200:
        return date(int(match[1]), int(match[2]), 1)
    try:
        return cells.a_date(value).replace(day=1)
    except cells.CellError:
        raise cells.CellError(_("%(value)s is not a month; write it as 2026-03.") % {"value": cells.as_text(value)}) from None


def _column(name: str, label, parse, words: list[str], required: bool = False) -> Column:
    return Column(name=name, label=label, parse=parse, headers=frozenset(header_key(w) for w in [name, *words]),
                  required=required)


COLUMNS = [
    _column("account", gettext_lazy("account code or USCC"), cells.text(32),
            ["客户编号", "客户代码", "统一社会信用代码", "信用代码", "account code", "customer"], required=True),
    _column("date", gettext_lazy("date"), cells.a_date, ["日期", "交易日期", "账单日期", "开票日期"]),
    _column("period", gettext_lazy("period"), a_period, ["账期", "月份", "期间", "所属月份", "month"]),
    _column("amount", gettext_lazy("amount (yuan)"), cells.decimal(16, 2),
            ["金额", "收入", "消费金额", "营业收入", "收入金额", "revenue"], required=True),
    _column("margin", gettext_lazy("margin (yuan)"), cells.decimal(16, 2), ["毛利", "利润", "毛利额", "profit"]),
    _column("cost", gettext_lazy("cost (yuan)"), cells.decimal(16, 2), ["成本", "成本金额", "销售成本", "cost of sales"]),
    _column("quantity", gettext_lazy("quantity"), cells.decimal(18, 4), ["数量", "销量", "qty", "volume"]),
    _column("product", gettext_lazy("product line"), cells.text(100), ["产品", "产品线", "业务", "product line"]),
]



class RevenueImporter(Importer):
    kind = "revenue"
    label = gettext_lazy("Revenue")
    columns = COLUMNS

    def __init__(self, *, actor, include_duplicates: bool = False, create_accounts: bool = False):
        super().__init__(actor=actor, include_duplicates=include_duplicates)
        self.create_accounts = create_accounts

    def resolve(self, row: Row) -> None:
        values = row.values
        if "date" in values:
            day = values["date"]
        elif "period" in values:
            day = values["period"]
        else:
            if not row.has_errors:
                row.error(self.column_label("date"), _("Give a date or a period (month)."))
            return
        if "amount" not in values and not row.has_errors:
            row.error(self.column_label("amount"), _("Required."))
        if "cost" in values and "amount" in values:
            margin = values["amount"] - values.pop("cost")
            if "margin" in values and values["margin"] != margin:
                row.error(self.column_label("cost"), _("The margin %(margin)s is not the amount less the cost (%(diff)s); "
                                                       "give one of them.") % {"margin": values["margin"], "diff": margin})
            values["margin"] = margin
        values.pop("cost", None)
        values["account"] = values.get("account", "").strip().upper()
        row.extra["key"] = (values["account"], day, values.get("product", ""))
        row.extra["date"] = day

    def check_file(self, rows: list[Row]) -> list[Row]:
        first: dict[tuple, Row] = {}
        for row in rows:
            if row.has_errors:
                continue
            earlier = first.setdefault(row.extra["key"], row)
            if earlier is row:
                continue
            # Several lines of one account, day and product are one fact: their sum.
            for name in ("amount", "margin", "quantity"):
                if name in row.values:
                    earlier.values[name] = earlier.values.get(name, Decimal(0)) + row.values[name]
            row.extra["summed_into"] = earlier.number
        return rows

    def plan(self, rows: list[Row]) -> None:
        keys = list({r.values["account"] for r in rows})
        # key (code or USCC) → the id the line belongs to (a merged account's survivor)
        accounts: dict[str, int] = {}
        for chunk in chunks(sorted(ids_by_code_or_uscc(keys), reverse=True)):  # the lowest id wins a key
            found = Account.objects.filter(pk__in=chunk).order_by("-id").values_list("pk", "code", "uscc", "merged_into_id")
            for pk, code, uscc, merged_into_id in found:
                accounts[code.upper()] = merged_into_id or pk
                if uscc:
                    accounts[uscc] = merged_into_id or pk
        ids = set(accounts.values())
        visible: set[int] = set()
        for chunk in chunks(list(ids)):
            visible.update(Account.objects.visible_to(self.actor).filter(pk__in=chunk).values_list("pk", flat=True))
        existing: dict[tuple, RevenueFact] = {}
        dates = list({r.extra["date"] for r in rows})
        for chunk in chunks(list(visible)):
            for fact in RevenueFact.objects.filter(account_id__in=chunk, date__in=dates):
                existing[(fact.account_id, fact.date, fact.product)] = fact
        account_label = self.column_label("account")
        for row in rows:
            if (earlier := row.extra.get("summed_into")) is not None:
                row.action = Action.UNCHANGED
                row.note(self.column_label("amount"), _("Added to row %(row)d (same account, date and product).")
                         % {"row": earlier}, Severity.WARNING)
                continue
            key = row.values["account"]
            account_id = accounts.get(key)
            if account_id is None:
                if self.create_accounts:
                    row.extra["account_id"] = None
                    row.action = Action.CREATE
                    row.note(account_label, _("Account %(code)s will be created as unidentified.") % {"code": key},
                             Severity.WARNING)
                else:
                    row.error(account_label, _("No account has the code or USCC %(value)s.") % {"value": key})
                continue
            if account_id not in visible:
                row.action = Action.REFUSED
                row.note(account_label, _("Account %(code)s is not visible to you.") % {"code": key}, Severity.REFUSED)
                continue
            row.extra["account_id"] = account_id
            fact = existing.get((account_id, row.extra["date"], row.values.get("product", "")))
            if fact is None:
                row.action = Action.CREATE
                continue
            row.target = fact
            row.changes = {n: row.values.get(n) for n in ("amount", "margin", "quantity")
                           if getattr(fact, n) != row.values.get(n)}
            row.action = Action.UPDATE if row.changes else Action.UNCHANGED

    def write(self, rows: list[Row]) -> None:
        self._create_missing_accounts([r for r in rows if r.extra.get("account_id", 0) is None])
        now = timezone.now()
        creates = [
            SimpleNamespace(
                account_id=r.extra["account_id"], date=r.extra["date"], month=r.extra["date"].replace(day=1),
                amount=r.values["amount"], margin=r.values.get("margin"), quantity=r.values.get("quantity"),
                product=r.values.get("product", ""), created_at=now,
            )
            for r in rows if r.action == Action.CREATE
        ]
        insert_rows(RevenueFact, creates)
        updates = []
        for row in rows:
            if row.action == Action.UPDATE:
                for name, value in row.changes.items():
                    setattr(row.target, name, value)
                updates.append(row.target)
        if updates:
            RevenueFact.objects.bulk_update(updates, ["amount", "margin", "quantity"], batch_size=500)
        touched = {(r.extra["account_id"], r.extra["date"].replace(day=1)) for r in rows}
        monthly_refresh(touched)
        self._first_revenue([r for r in rows if r.action in (Action.CREATE, Action.UPDATE)])

    def _first_revenue(self, rows: list[Row]) -> None:
        """An ordered account (订单客户) whose revenue arrives on or after the day it ordered
        becomes active (用户)."""
        latest: dict[int, date] = {}
        for row in rows:
            if row.values["amount"] > 0:
                account_id, day = row.extra["account_id"], row.extra["date"]
                latest[account_id] = max(day, latest.get(account_id, day))
        ordered = became_ordered_on(latest)
        arrived = [pk for pk, day in ordered.items() if latest[pk] >= day]
        if arrived:
            lifecycle_follow(event="revenue", accounts=arrived, actor=self.actor,
                             cause=_("First revenue after the order"))

    def _create_missing_accounts(self, rows: list[Row]) -> None:
        """`--create-accounts`: an unknown code becomes an unidentified (待识别) account owned by the importer."""
        codes = sorted({r.values["account"] for r in rows})
        if not codes:
            return
        if self.actor.unit_id is None:
            for row in rows:
                row.error(self.column_label("account"), _("Name the owner: you belong to no org unit."))
            return
        now = timezone.now()
        accounts = [
            Account(code=code, name=code, owner_id=self.actor.pk, unit_id=self.actor.unit_id, created_by_id=self.actor.pk,
                    lifecycle_status=LifecycleStatus.UNIDENTIFIED, name_key=normalise_name(code),
                    search_text=search_key(code), created_at=now, updated_at=now)
            for code in codes
        ]
        Account.objects.bulk_create(accounts)
        Account.history.bulk_history_create(accounts, default_user=self.actor, default_change_reason=_("Import"))
        ids = dict(Account.objects.filter(code__in=codes).values_list("code", "pk"))
        search.index_ids(ids.values())
        summaries.touch("accounts", ids.values())
        for row in rows:
            row.extra["account_id"] = ids[row.values["account"]]


def monthly_refresh(pairs: set[tuple[int, date]]) -> None:
    """Rebuild MonthlyRevenue for these (account, month) pairs from their facts."""
    summaries.touch("revenue", {account_id for account_id, _month in pairs})
    by_month: dict[date, list[int]] = defaultdict(list)
    for account_id, month in pairs:
        by_month[month].append(account_id)
    for month, account_ids in by_month.items():
        for chunk in chunks(account_ids):
            MonthlyRevenue.objects.filter(month=month, account_id__in=chunk).delete()
            sums = (
                RevenueFact.objects.filter(month=month, account_id__in=chunk)
                .values("account_id")
                .annotate(amount=Sum("amount"), margin=Sum("margin"), quantity=Sum("quantity"), lines=Count("id"))
            )
            insert_rows(MonthlyRevenue, (SimpleNamespace(month=month, **s) for s in sums))
