"""Importing leads from Excel or CSV through the import engine: source, company, credit code,
contact, phone, e-mail, need, estimated amount, region, industry and optionally the person.

Every imported lead goes through the assignment rules (or to the person named, if the
importer may assign them), its SLA clock starts at the import and its assignee gets a task.
An open lead for the same company (same credit code, or the same name) already in the
system, or earlier in the file, is a likely duplicate and skipped unless the user asks
otherwise; for a lead the importer cannot see only its assignee and unit are named (查重).
Leads are only ever created: an import never changes an existing lead.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from kam.accounts.importers import REGION_SUFFIXES
from kam.activities.services import tasks_open_many
from kam.core.bulk import chunks
from kam.core.models import Industry, Region
from kam.core.text import normalise_name
from kam.imports import cells
from kam.imports.columns import model_columns
from kam.imports.engine import Action, Importer, Row, Severity
from kam.sales.leads.routing import LeadRouter, clock_start, follow_up_task
from kam.sales.leads.selectors import lead_assignees
from kam.sales.models import Lead, LeadSource

LEAD_COLUMNS = ["source", "company", "uscc", "contact_name", "contact_title", "phone", "email", "need",
                "estimated_amount", "region", "industry", "assignee"]
ALIASES = {
    "source": ["来源", "线索来源", "客户来源", "渠道来源", "获客渠道", "lead source"],
    "company": ["公司", "公司名称", "客户名称", "企业名称", "单位名称", "客户", "company name", "customer"],
    "uscc": ["统一社会信用代码", "社会信用代码", "信用代码", "税号", "credit code", "tax id"],
    "contact_name": ["联系人", "联系人姓名", "姓名", "contact name"],
    "contact_title": ["职务", "职位", "联系人职务", "title"],
    "phone": ["电话", "手机", "手机号", "联系电话", "联系方式", "mobile", "telephone"],
    "email": ["邮箱", "电子邮箱", "电子邮件", "e-mail", "mail"],
    "need": ["需求", "需求描述", "客户需求", "意向", "requirement"],
    "estimated_amount": ["预计金额", "预估金额", "意向金额", "金额", "预算", "amount", "budget"],
    "region": ["地区", "区域", "所在地区", "省份", "城市", "province", "city"],
    "industry": ["行业", "所属行业", "行业分类"],
    "assignee": ["负责人", "跟进人", "分配给", "销售", "客户经理", "owner", "assigned to"],
}
PARSERS = {
    "uscc": cells.uscc,
    "phone": cells.phone,
    "source": cells.text(100),
    "region": cells.text(100),
    "industry": cells.text(100),
    "assignee": cells.text(150),
}


def _lookup(model, suffixes: tuple[str, ...] = ()) -> dict[str, int]:
    """An active list's entries by code and name (and, for regions, the name without 省/市…)."""
    found: dict[str, int] = {}
    items = list(model.objects.filter(is_active=True))
    for item in items:
        found.setdefault(cells.key(item.code), item.pk)
        found.setdefault(cells.key(item.name), item.pk)
    for item in items:
        for suffix in suffixes:
            if item.name.endswith(suffix) and len(item.name) > len(suffix) + 1:
                found.setdefault(cells.key(item.name.removesuffix(suffix)), item.pk)
                break
    return found


class LeadImporter(Importer):
    kind = "leads"
    label = gettext_lazy("Leads")
    columns = model_columns(Lead, LEAD_COLUMNS, aliases=ALIASES, parsers=PARSERS, required=["source", "company"])
    needs_one_of = ("company",)

    def __init__(self, *, actor, include_duplicates: bool = False):
        super().__init__(actor=actor, include_duplicates=include_duplicates)
        self.sources = _lookup(LeadSource)
        self.regions = _lookup(Region, REGION_SUFFIXES)
        self.industries = _lookup(Industry)
        self.people: dict[str, object] = {}
        self.ambiguous: set[str] = set()
        for person in lead_assignees(user=actor):
            self.people[cells.key(person.username)] = person
        for person in lead_assignees(user=actor):
            name = cells.key(str(person))
            if name and name != cells.key(person.username):
                if name in self.people and self.people[name].pk != person.pk:
                    self.ambiguous.add(name)
                self.people.setdefault(name, person)

    # --- parsing ----------------------------------------------------------------------

    def resolve(self, row: Row) -> None:
        values = row.values
        for name, table, what in (("source", self.sources, _("source")), ("region", self.regions, _("region")),
                                  ("industry", self.industries, _("industry"))):
            if name in values:
                found = table.get(cells.key(values[name])) if values[name] else None
                if found is None and values[name]:
                    row.error(self.column_label(name),
                              _("Unknown %(what)s “%(value)s”.") % {"what": what, "value": values[name]})
                values[name] = found
        if not values.get("source") and not row.has_errors:
            row.error(self.column_label("source"), _("Required."))
        if not values.get("company"):
            row.error(self.column_label("company"), _("Required."))
        if person := values.get("assignee"):
            word = cells.key(person)
            if word in self.ambiguous:
                row.error(self.column_label("assignee"),
                          _("Several users are called %(name)s; write the username.") % {"name": person})
                values["assignee"] = None
            elif (found := self.people.get(word)) is None:
                row.error(self.column_label("assignee"),
                          _("“%(value)s” is not a person you can assign leads to.") % {"value": person})
                values["assignee"] = None
            else:
                values["assignee"] = found
        if (amount := values.get("estimated_amount")) is not None and amount < 0:
            row.error(self.column_label("estimated_amount"), _("Enter an amount of 0 or more."))
        row.extra["name_key"] = normalise_name(values.get("company", ""))[:200]

    def check_file(self, rows: list[Row]) -> list[Row]:
        first: dict[tuple[str, str], int] = {}
        for row in rows:
            if row.has_errors:
                continue
            for key in (("uscc", row.values.get("uscc", "")), ("name", row.extra["name_key"])):
                if not key[1]:
                    continue
                earlier = first.setdefault(key, row.number)
                if earlier != row.number:
                    row.extra.setdefault("file_duplicate_of", earlier)
        return rows

    # --- planning -----------------------------------------------------------------------

    def plan(self, rows: list[Row]) -> None:
        companies = sorted({r.values["company"] for r in rows})
        usccs = sorted({r.values["uscc"] for r in rows if r.values.get("uscc")})
        open_by_uscc: dict[str, Lead] = {}
        open_by_name: dict[str, Lead] = {}
        for chunk in chunks(companies):
            self._collect(Q(company__in=chunk), open_by_uscc, open_by_name)
        for chunk in chunks(usccs):
            self._collect(Q(uscc__in=chunk), open_by_uscc, open_by_name)
        visible = set(Lead.objects.visible_to(self.actor).filter(
            pk__in=[lead.pk for lead in (*open_by_uscc.values(), *open_by_name.values())]).values_list("pk", flat=True))
        label = self.column_label("company")
        for row in rows:
            row.action = Action.CREATE
            if (earlier := row.extra.get("file_duplicate_of")) is not None:
                row.action = Action.DUPLICATE
                row.note(label, _("Same company as row %(row)d of this file.") % {"row": earlier}, Severity.DUPLICATE)
                continue
            existing = open_by_uscc.get(row.values.get("uscc") or "") or open_by_name.get(row.extra["name_key"])
            if existing is None:
                continue
            row.action = Action.DUPLICATE
            if existing.pk in visible:
                row.note(label, _("An open lead for this company exists: %(company)s, with %(person)s.")
                         % {"company": existing.company, "person": existing.assignee or _("nobody yet")},
                         Severity.DUPLICATE, link=reverse("sales:lead", args=[existing.pk]))
            else:
                row.note(label, _("An open lead for this company already exists, with %(person)s (%(unit)s).")
                         % {"person": existing.assignee or _("nobody yet"), "unit": existing.unit or "—"},
                         Severity.DUPLICATE)

    def _collect(self, condition: Q, by_uscc: dict, by_name: dict) -> None:
        for lead in Lead.objects.open().filter(condition).select_related("assignee", "unit").order_by("id"):
            if lead.uscc:
                by_uscc.setdefault(lead.uscc, lead)
            by_name.setdefault(normalise_name(lead.company)[:200], lead)

    # --- writing ------------------------------------------------------------------------

    def write(self, rows: list[Row]) -> None:
        now = timezone.now()
        router = LeadRouter()
        leads: list[Lead] = []
        for row in rows:
            values = row.values
            lead = Lead(
                source_id=values["source"], company=values["company"], uscc=values.get("uscc", ""),
                contact_name=values.get("contact_name", ""), contact_title=values.get("contact_title", ""),
                phone=values.get("phone", ""), email=values.get("email", ""), need=values.get("need", ""),
                estimated_amount=values.get("estimated_amount"), region_id=values.get("region"),
                industry_id=values.get("industry"), created_by=self.actor, created_at=now,
            )
            if person := values.get("assignee"):
                rule, unit = None, person.unit
            else:
                rule, unit, person = router.route(lead, actor=self.actor)
            lead.rule = rule
            clock_start(lead, person, unit, now)
            leads.append(lead)
        router.save()
        bulk_create_with_history(leads, Lead, batch_size=500, default_user=self.actor,
                                 default_change_reason=_("Import"))
        tasks_open_many(actor=self.actor,
                        tasks=[task for lead in leads if (task := follow_up_task(lead, self.actor)) is not None])
