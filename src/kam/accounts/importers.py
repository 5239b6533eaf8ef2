"""Importing accounts and contacts from spreadsheets, through the import engine.

Accounts are matched by code (客户编号) first, then by USCC; a matched account that
the user may see is updated with the non-empty cells of the row, one they may not
see is refused with its owner named but nothing else shown (查重). Rows matching
nothing whose normalised name equals an existing account's are likely duplicates
and skipped unless the user asks otherwise. Empty cells never erase data.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.accounts import search
from kam.accounts.card import policies as card_policies
from kam.accounts.card.forms import ACCOUNT_FORM_FIELDS
from kam.accounts.card.services import assignable_owners
from kam.accounts.contacts import policies as contact_policies
from kam.accounts.models import Account, Contact, ContactStatus
from kam.accounts.team.selectors import colleagues
from kam.core import summaries
from kam.core.bulk import chunks, ids_by, insert_rows, new_instances, present
from kam.core.models import Industry, Region
from kam.core.text import normalise_name, search_key
from kam.imports import cells
from kam.imports.columns import Column, header_key, model_columns
from kam.imports.engine import Action, Importer, Row, Severity

ACCOUNT_ALIASES = {
    "code": ["客户编号", "客户代码", "客户号", "编号", "account code", "customer code", "customer id"],
    "name": ["客户名称", "公司名称", "企业名称", "单位名称", "客户全称", "名称", "公司", "customer name", "company name", "company"],
    "short_name": ["简称", "客户简称"],
    "uscc": ["统一社会信用代码", "社会信用代码", "信用代码", "税号", "纳税人识别号", "credit code", "tax id"],
    "legal_representative": ["法人", "法人代表", "法定代表人"],
    "enterprise_type": ["企业类型", "企业性质", "单位性质", "公司类型"],
    "industry": ["行业", "所属行业", "行业分类"],
    "region": ["地区", "区域", "所属地区", "所在地区"],
    "address": ["地址", "注册地址", "办公地址", "公司地址"],
    "phone": ["电话", "联系电话", "公司电话", "总机"],
    "website": ["网址", "网站", "官网"],
    "bank_name": ["开户行", "开户银行"],
    "bank_account": ["银行账号", "银行帐号", "账号"],
    "staff_size": ["员工人数", "人数", "员工规模", "人员规模", "employees"],
    "parent": ["上级客户编号", "集团客户编号", "母公司编号", "上级单位编号", "集团编号", "parent code", "group code",
               "parent account code"],
    "annual_revenue": ["年营业额", "年收入", "营业收入", "年销售额"],
    "asset_scale": ["资产规模", "总资产"],
    "credit_limit": ["信用额度", "授信额度"],
    "payment_term_days": ["账期", "付款期限"],
    "owner": ["客户经理", "负责人", "归属人", "业务员", "销售", "account manager", "sales rep"],
    "channel": ["渠道", "客户类别", "客户类型", "客户分类"],
    "lifecycle_status": ["客户状态", "状态"],
    "relationship_stage": ["合作阶段", "关系阶段"],
    "signed_on": ["签约日期", "签约时间", "合作开始日期"],
    "notes": ["备注", "说明"],
}
LOOKUPS = {"industry", "region", "owner", "parent"}
# Phone-like fields are normalised rather than only checked.
ACCOUNT_PARSERS = {
    "uscc": cells.uscc,
    "phone": cells.phone,
    **{name: cells.text(200) for name in LOOKUPS},
}
CONTACT_FIELDS = [
    "name", "title", "department", "mobile", "office_phone", "email", "wechat", "birthday", "decision_role",
    "attitude", "influence", "relationship_strength", "relationship_owner", "is_key", "status", "notes",
]
CONTACT_ALIASES = {
    "name": ["姓名", "联系人", "联系人姓名", "contact", "contact name"],
    "title": ["职务", "职位", "岗位", "job title", "position"],
    "department": ["部门", "所在部门", "dept"],
    "mobile": ["手机", "手机号", "手机号码", "移动电话", "mobile phone", "cell"],
    "office_phone": ["办公电话", "座机", "固定电话", "电话", "office phone", "phone"],
    "email": ["邮箱", "电子邮箱", "电子邮件", "e-mail", "mail"],
    "wechat": ["微信", "微信号", "wechat"],
    "birthday": ["生日", "出生日期"],
    "decision_role": ["决策角色", "角色", "采购角色"],
    "attitude": ["态度", "对我方态度"],
    "influence": ["影响力"],
    "relationship_strength": ["关系强度", "关系"],
    "relationship_owner": ["关系负责人", "对接人", "维护人"],
    "is_key": ["关键联系人", "是否关键"],
    "status": ["在职状态", "状态"],
    "notes": ["备注", "说明"],
}
CONTACT_ACCOUNT_HEADERS = [
    "account", "account code", "customer code", "客户编号", "客户代码", "所属客户编号", "统一社会信用代码", "信用代码",
]



def _attname(name: str) -> str:
    """industry → industry_id: the importers carry foreign keys as ids."""
    return Account._meta.get_field(name).attname


def ids_by_code_or_uscc(keys) -> set[int]:
    """Ids of the accounts whose code or USCC is one of `keys`: two indexed lookups, where
    one query with OR would scan the whole account table (SQLite)."""
    keys = list(keys)
    return set(ids_by(Account, "code", keys).values()) | set(ids_by(Account, "uscc", keys).values())


class _People:
    """Users a row may name, by username or display name; ambiguous names are refused."""

    def __init__(self, users):
        self.by_key: dict[str, Any] = {}
        self.ambiguous: set[str] = set()
        for user in users:
            self.by_key[cells.key(user.username)] = user
        for user in users:
            for name in {str(user), user.get_full_name()}:
                name_key = cells.key(name)
                if not name_key or name_key == cells.key(user.username):
                    continue
                if name_key in self.by_key and self.by_key[name_key].pk != user.pk:
                    self.ambiguous.add(name_key)
                self.by_key.setdefault(name_key, user)

    def find(self, text: str):
        word = cells.key(text)
        if word in self.ambiguous:
            raise cells.CellError(_("Several users are called %(name)s; write the username.") % {"name": text})
        return self.by_key.get(word)


# How people shorten region names: 广东省 → 广东, 广西壮族自治区 → 广西, 上海市 → 上海.
REGION_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "自治州", "地区", "省", "市", "区", "县")


def _reference(model, suffixes: tuple[str, ...] = ()) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in model.objects.filter(is_active=True):
        found.setdefault(cells.key(item.code), item.pk)
        found.setdefault(cells.key(item.name), item.pk)
    for item in model.objects.filter(is_active=True):
        for suffix in suffixes:
            if item.name.endswith(suffix) and len(item.name) > len(suffix) + 1:
                found.setdefault(cells.key(item.name.removesuffix(suffix)), item.pk)
                break
    return found


def _owner_notice(account: Account) -> str:
    """What 查重 may say about an account the user cannot see: that it exists, and whose it is."""
    return _("owned by %(owner)s (%(unit)s)") % {"owner": account.owner, "unit": account.unit}


class AccountImporter(Importer):
    kind = "accounts"
    label = gettext_lazy("Accounts")
    import_policy = staticmethod(card_policies.may_import_accounts)
    # Name is required to create an account, not to update one found by code or USCC.
    columns = model_columns(Account, ACCOUNT_FORM_FIELDS, aliases=ACCOUNT_ALIASES, parsers=ACCOUNT_PARSERS)
    needs_one_of = ("code", "uscc", "name")

    def __init__(self, *, actor, include_duplicates: bool = False):
        super().__init__(actor=actor, include_duplicates=include_duplicates)
        self.industries = _reference(Industry)
        self.regions = _reference(Region, REGION_SUFFIXES)
        self.owners = _People(list(assignable_owners(actor).select_related("unit")))
        self.file_codes: set[str] = set()

    # --- parsing ------------------------------------------------------------------

    def resolve(self, row: Row) -> None:
        values = row.values
        for name, table, what in (("industry", self.industries, _("industry")), ("region", self.regions, _("region"))):
            if name in values:
                found = table.get(cells.key(values[name]))
                if found is None:
                    row.error(self.column_label(name), _("Unknown %(what)s “%(value)s”.") % {"what": what, "value": values[name]})
                    del values[name]
                else:
                    values[name] = found
        if "owner" in values:
            try:
                owner = self.owners.find(values["owner"])
            except cells.CellError as exc:
                owner = None
                row.error(self.column_label("owner"), exc.message)
            else:
                if owner is None:
                    row.error(
                        self.column_label("owner"),
                        _("“%(value)s” is not a user you can assign accounts to.") % {"value": values["owner"]},
                    )
            if owner is None:
                del values["owner"]
            else:
                values["owner"] = owner
        if "code" in values:
            values["code"] = values["code"].strip()
        row.extra["parent_code"] = values.pop("parent", "")
        row.extra["name_key"] = normalise_name(values.get("name", ""))[:200]

    def check_file(self, rows: list[Row]) -> list[Row]:
        first_by: dict[str, dict[str, int]] = {"code": {}, "uscc": {}, "name": {}}
        label = {"code": self.column_label("code"), "uscc": self.column_label("uscc")}
        for row in rows:
            for name in ("code", "uscc"):
                value = row.values.get(name)
                if not value:
                    continue
                if (earlier := first_by[name].setdefault(value, row.number)) != row.number:
                    row.error(label[name], _("%(value)s already appears in row %(row)d.") % {"value": value, "row": earlier})
            if not row.values.get("code") and (name_key := row.extra["name_key"]):
                earlier = first_by["name"].setdefault(name_key, row.number)
                if earlier != row.number:
                    row.extra["file_duplicate_of"] = earlier
        self.file_codes = set(first_by["code"])
        return self._parents_first(rows)

    def _parents_first(self, rows: list[Row]) -> list[Row]:
        """Order rows so a group parent listed in the file is written before its members."""
        by_code = {r.values["code"]: r for r in rows if r.values.get("code") and not r.has_errors}
        ordered: list[Row] = []
        state: dict[int, int] = {}  # row number → 1 visiting, 2 placed
        parent_label = self.column_label("parent")
        for row in rows:
            chain: list[Row] = []
            current: Row | None = row
            while current is not None and state.get(current.number) is None:
                state[current.number] = 1
                chain.append(current)
                code = current.extra["parent_code"]
                if code and code == current.values.get("code"):
                    current.error(parent_label, _("An account cannot be its own parent."))
                    break
                current = by_code.get(code) if code else None
                if current is not None and state.get(current.number) == 1:
                    for member in chain[chain.index(current):]:
                        member.error(parent_label, _("The parent codes in the file form a loop."))
                    break
            for member in reversed(chain):
                state[member.number] = 2
                ordered.append(member)
        return ordered

    # --- planning -------------------------------------------------------------------

    def plan(self, rows: list[Row]) -> None:
        codes = [r.values["code"] for r in rows if r.values.get("code")]
        usccs = [r.values["uscc"] for r in rows if r.values.get("uscc")]
        # Most rows of a large file are new: find which keys exist, then load just those.
        by_code: dict[str, Account] = {}
        by_uscc: dict[str, Account] = {}
        for chunk in chunks(sorted(present(Account, "code", codes))):
            by_code.update((a.code, a) for a in Account.objects.filter(code__in=chunk))
        for chunk in chunks(sorted(present(Account, "uscc", usccs))):
            by_uscc.update((a.uscc, a) for a in Account.objects.filter(uscc__in=chunk))
        parent_codes = {r.extra["parent_code"] for r in rows if r.extra["parent_code"]}
        parents: dict[str, Account] = {}
        for chunk in chunks(sorted(present(Account, "code", parent_codes))):
            parents.update((a.code, a) for a in Account.objects.filter(code__in=chunk))
        unmatched = [r for r in rows if r.values.get("code") not in by_code and r.values.get("uscc") not in by_uscc]
        name_keys = present(Account, "name_key", (r.extra["name_key"] for r in unmatched if r.extra["name_key"]),
                            where="deleted_at IS NULL")
        by_name: dict[str, Account] = {}
        for chunk in chunks(sorted(name_keys)):
            for account in Account.objects.alive().filter(name_key__in=chunk).order_by("id"):
                by_name.setdefault(account.name_key, account)
        candidates = {a.pk for a in (*by_code.values(), *by_uscc.values(), *parents.values(), *by_name.values())}
        candidates |= {a.merged_into_id for a in (*by_code.values(), *by_uscc.values()) if a.merged_into_id}
        visible: set[int] = set()
        for chunk in chunks(list(candidates)):
            visible.update(Account.objects.visible_to(self.actor).filter(pk__in=chunk).values_list("pk", flat=True))
        self._visible = visible
        # Owner and unit are shown only for matches the user may not see (查重): load just those.
        hidden = [a for a in (*by_code.values(), *by_uscc.values(), *by_name.values()) if a.pk not in visible]
        prefetch_related_objects(hidden, "owner", "unit")
        for row in rows:
            self._plan_row(row, by_code, by_uscc, by_name, parents, visible)

    def _survivor(self, account: Account) -> Account:
        seen = set()
        while account.merged_into_id and account.pk not in seen:
            seen.add(account.pk)
            account = Account.objects.select_related("owner", "unit").get(pk=account.merged_into_id)
        return account

    def _plan_row(self, row, by_code, by_uscc, by_name, parents, visible) -> None:
        values = row.values
        code_match = by_code.get(values.get("code", ""))
        uscc_match = by_uscc.get(values.get("uscc", ""))
        if code_match and uscc_match and self._survivor(code_match).pk != self._survivor(uscc_match).pk:
            row.error(
                self.column_label("uscc"),
                _("This unified social credit code belongs to another account (%(other)s), not to %(code)s.")
                % {"other": uscc_match.code if uscc_match.pk in visible else _owner_notice(uscc_match), "code": code_match.code},
            )
            return
        if uscc_match and not code_match and values.get("code") and uscc_match.code != values["code"]:
            shown = uscc_match.code if uscc_match.pk in visible else _owner_notice(uscc_match)
            row.error(
                self.column_label("uscc"),
                _("This unified social credit code is already used by account %(other)s.") % {"other": shown},
            )
            return
        target = code_match or uscc_match
        if target is not None and target.merged_into_id:
            target = self._survivor(target)
        if not self._plan_parent(row, parents, visible, target):
            return
        if target is not None:
            self._plan_update(row, target)
            return
        if not values.get("name"):
            row.error(self.column_label("name"), _("Required to create an account."))
            return
        if "owner" not in values and self.actor.unit_id is None:
            row.error(self.column_label("owner"), _("Name the owner: you belong to no org unit."))
            return
        row.action = Action.CREATE
        if (earlier := row.extra.get("file_duplicate_of")) is not None:
            row.action = Action.DUPLICATE
            row.note(self.column_label("name"), _("Same name as row %(row)d of this file.") % {"row": earlier}, Severity.DUPLICATE)
        elif (existing := by_name.get(row.extra["name_key"])) is not None:
            row.action = Action.DUPLICATE
            if existing.pk in visible:
                row.note(
                    self.column_label("name"),
                    _("Likely the same as account %(name)s (%(code)s).") % {"name": existing.name, "code": existing.code},
                    Severity.DUPLICATE, link=existing.get_absolute_url(),
                )
            else:
                row.note(
                    self.column_label("name"),
                    _("An account with this name already exists, %(owner)s.") % {"owner": _owner_notice(existing)},
                    Severity.DUPLICATE,
                )

    def _plan_parent(self, row: Row, parents: dict[str, Account], visible: set[int], target: Account | None) -> bool:
        code = row.extra["parent_code"]
        row.extra["parent_id"] = None
        if not code:
            return True
        parent = parents.get(code)
        if parent is not None and parent.deleted_at is None:
            # The group head an account already has may lie outside the user's view (as in
            # account_update): only a new parent must be one they see.
            if parent.pk not in visible and (target is None or target.parent_id != parent.pk):
                row.error(self.column_label("parent"), _("Parent account %(code)s is not visible to you.") % {"code": code})
                return False
            row.extra["parent_id"] = parent.pk
            return True
        if code in self.file_codes:
            return True  # written earlier in this import: parents go first
        row.error(self.column_label("parent"), _("No account has the code %(code)s.") % {"code": code})
        return False

    def _plan_update(self, row: Row, target: Account) -> None:
        row.target = target
        if target.deleted_at is not None:
            row.action = Action.REFUSED
            row.note(
                self.column_label("code"),
                _("Account %(code)s is in the recycle bin; restore it first.") % {"code": target.code},
                Severity.REFUSED,
            )
            return
        if target.pk not in self._visible and not Account.objects.visible_to(self.actor).filter(pk=target.pk).exists():
            row.action = Action.REFUSED
            row.note(
                self.column_label("code"),
                _("This account already exists, %(owner)s; you cannot change it. Ask the owner or their manager.")
                % {"owner": _owner_notice(target)},
                Severity.REFUSED,
            )
            return
        changes: dict[str, Any] = {}
        for name, value in row.values.items():
            if name == "code":
                continue
            field = Account._meta.get_field(name)
            current = getattr(target, field.attname)
            new = value.pk if name == "owner" else value
            if current != new and not self.same_when_normalised(name, current, new):
                changes[name] = value
        if row.extra.get("parent_id") and row.extra["parent_id"] != target.parent_id:
            if row.extra["parent_id"] == target.pk:
                row.error(self.column_label("parent"), _("An account cannot be its own parent."))
                return
            changes["parent_id"] = row.extra["parent_id"]
        row.changes = changes
        row.action = Action.UPDATE if changes else Action.UNCHANGED

    # --- writing ------------------------------------------------------------------------

    def write(self, rows: list[Row]) -> None:
        now = timezone.now()
        creates = [r for r in rows if r.action == Action.CREATE]
        updates = [r for r in rows if r.action == Action.UPDATE]
        if creates:
            self._create(creates, now)
        if updates:
            self._update(updates, now)

    def _create(self, rows: list[Row], now) -> None:
        created: dict[str, int] = {}
        pending = rows
        new_account = new_instances(Account)
        # Parents listed in the same batch are created one level before their members.
        while pending:
            ready = [
                r for r in pending
                if not r.extra["parent_code"] or r.extra["parent_id"] or r.extra["parent_code"] in created
                or r.extra["parent_code"] not in {p.values.get("code") for p in pending}
            ]
            pending = [r for r in pending if r not in ready] if len(ready) < len(pending) else []
            accounts = []
            for row in ready:
                account = new_account(**{_attname(k): v for k, v in row.values.items() if k != "owner"})
                owner = row.values.get("owner") or self.actor
                account.owner_id, account.unit_id = owner.pk, owner.unit_id
                account.parent_id = row.extra["parent_id"] or created.get(row.extra["parent_code"])
                if row.extra["parent_code"] and not account.parent_id:
                    row.note(self.column_label("parent"),
                             _("Parent %(code)s was not imported; the account has no parent yet.")
                             % {"code": row.extra["parent_code"]}, Severity.WARNING)
                account.code = account.code or f"TMP-{row.number}-{id(account)}"
                account.created_by_id = self.actor.pk
                account.name_key = row.extra["name_key"]
                account.search_text = search_key(account.name, account.short_name, account.code, account.uscc or "")
                account.uscc = account.uscc or None
                account.created_at = account.updated_at = now
                accounts.append(account)
            insert_rows(Account, accounts)
            self._fetch_ids(accounts)
            summaries.touch("accounts", (a.pk for a in accounts))
            provisional = [a for a in accounts if a.code.startswith("TMP-")]
            for account in provisional:
                account.code = f"KA{account.pk:08d}"
                account.search_text = search_key(account.name, account.short_name, account.code, account.uscc or "")
            if provisional:
                Account.objects.bulk_update(provisional, ["code", "search_text"], batch_size=500)
            search.index((a.pk, a.search_text) for a in accounts)
            insert_rows(Account.history.model, self._history(accounts, "+"))
            for row, account in zip(ready, accounts, strict=True):
                row.target = account
                created[account.code] = account.pk

    @staticmethod
    def _fetch_ids(accounts: list[Account]) -> None:
        """Codes are unique: read back the ids the database gave the new accounts."""
        ids = ids_by(Account, "code", (a.code for a in accounts))
        for account in accounts:
            account.pk = ids[account.code]
            account._state.adding, account._state.db = False, "default"

    def _history(self, accounts: list[Account], kind: str):
        """Field-history records of the accounts as they now are, as simple-history writes them."""
        # The history table holds the account's columns (attnames) plus the history_* ones.
        stamp = {"history_date": timezone.now(), "history_change_reason": _("Import"),
                 "history_type": kind, "history_user_id": self.actor.pk}
        for account in accounts:
            yield SimpleNamespace(**{**account.__dict__, **stamp})

    def _update(self, rows: list[Row], now) -> None:
        fields: set[str] = {"version", "updated_at", "name_key", "search_text"}
        accounts = []
        for row in rows:
            account = row.target
            for name, value in row.changes.items():
                if name == "owner":
                    account.owner_id, account.unit_id = value.pk, value.unit_id
                    fields |= {"owner", "unit"}
                elif name == "parent_id":
                    account.parent_id = value
                    fields.add("parent")
                else:
                    setattr(account, _attname(name), value)
                    fields.add(name)
            account.version += 1
            account.updated_at = now
            account.name_key = normalise_name(account.name)[:200]
            account.search_text = search_key(account.name, account.short_name, account.code, account.uscc or "")
            accounts.append(account)
        Account.objects.bulk_update(accounts, sorted(fields), batch_size=500)
        search.index((a.pk, a.search_text) for a in accounts)
        summaries.touch("accounts", (a.pk for a in accounts))
        insert_rows(Account.history.model, self._history(accounts, "~"))


class ContactImporter(Importer):
    """Contacts of visible accounts, matched by account and mobile, else by account and name."""

    kind = "contacts"
    label = gettext_lazy("Contacts")
    import_policy = staticmethod(contact_policies.may_import_contacts)

    def __init__(self, *, actor, include_duplicates: bool = False):
        super().__init__(actor=actor, include_duplicates=include_duplicates)
        # The same people the contact form offers as relationship owner.
        self.people = _People(list(colleagues(user=actor)))

    columns = [
        Column(
            name="account",
            label=gettext_lazy("account code or USCC"),
            parse=cells.text(32),
            headers=frozenset(header_key(w) for w in CONTACT_ACCOUNT_HEADERS),
            required=True,
        ),
        *model_columns(
            Contact, CONTACT_FIELDS, aliases=CONTACT_ALIASES,
            parsers={"mobile": cells.mobile, "office_phone": cells.phone, "relationship_owner": cells.text(150)},
            required=["name"],
        ),
    ]

    def resolve(self, row: Row) -> None:
        if "relationship_owner" in row.values:
            text = row.values.pop("relationship_owner")
            try:
                person = self.people.find(text)
            except cells.CellError as exc:
                row.error(self.column_label("relationship_owner"), exc.message)
                return
            if person is None:
                row.error(self.column_label("relationship_owner"), _("No active user “%(value)s”.") % {"value": text})
                return
            row.values["relationship_owner"] = person
        if not row.values.get("name"):
            row.error(self.column_label("name"), _("Required."))
        if not row.values.get("account"):
            row.error(self.column_label("account"), _("Required."))
        row.values["account"] = row.values.get("account", "").strip().upper() if row.values.get("account") else ""

    def check_file(self, rows: list[Row]) -> list[Row]:
        seen: dict[tuple[str, str], int] = {}
        for row in rows:
            if row.has_errors:
                continue
            match_key = (row.values["account"], row.values.get("mobile") or "name:" + cells.key(row.values["name"]))
            if (earlier := seen.setdefault(match_key, row.number)) != row.number:
                row.error(self.column_label("mobile" if row.values.get("mobile") else "name"),
                          _("The same contact already appears in row %(row)d.") % {"row": earlier})
        return rows

    def plan(self, rows: list[Row]) -> None:
        keys = list({r.values["account"] for r in rows})
        accounts: dict[str, Account] = {}
        for chunk in chunks(sorted(ids_by_code_or_uscc(keys))):
            for account in Account.objects.filter(pk__in=chunk).select_related("owner", "unit"):
                accounts[account.code.upper()] = account
                if account.uscc:
                    accounts[account.uscc] = account
        ids = {a.merged_into_id or a.pk for a in accounts.values()}
        visible: set[int] = set()
        for chunk in chunks(list(ids)):
            visible.update(Account.objects.visible_to(self.actor).filter(pk__in=chunk).values_list("pk", flat=True))
        existing: dict[tuple[int, str], Contact] = {}
        for chunk in chunks(list(visible)):
            for contact in Contact.objects.alive().filter(account_id__in=chunk).order_by("id"):
                if contact.mobile:
                    existing.setdefault((contact.account_id, contact.mobile), contact)
                existing.setdefault((contact.account_id, "name:" + cells.key(contact.name)), contact)
        for row in rows:
            account = accounts.get(row.values["account"])
            if account is None:
                row.error(self.column_label("account"), _("No account has the code or USCC %(value)s.") % {"value": row.values["account"]})
                continue
            account_id = account.merged_into_id or account.pk
            if account_id not in visible:
                row.action = Action.REFUSED
                row.note(self.column_label("account"),
                         _("Account %(code)s is not visible to you (%(owner)s).") % {"code": row.values["account"], "owner": _owner_notice(account)},
                         Severity.REFUSED)
                continue
            row.extra["account_id"] = account_id
            match = None
            if row.values.get("mobile"):
                match = existing.get((account_id, row.values["mobile"]))
            match = match or existing.get((account_id, "name:" + cells.key(row.values["name"])))
            if match is None:
                row.action = Action.CREATE
                continue
            row.target = match
            row.changes = {
                name: value for name, value in row.values.items()
                if name != "account" and not self._same(match, name, value)
            }
            row.action = Action.UPDATE if row.changes else Action.UNCHANGED

    def _same(self, contact: Contact, name: str, value) -> bool:
        current = getattr(contact, Contact._meta.get_field(name).attname)
        new = value.pk if name == "relationship_owner" else value
        return current == new or self.same_when_normalised(name, current, new)

    def write(self, rows: list[Row]) -> None:
        now = timezone.now()
        creates, updates, fields = [], [], {"version", "updated_at", "search_text"}
        for row in rows:
            if row.action == Action.CREATE:
                data = {k: v for k, v in row.values.items() if k not in {"account", "relationship_owner"}}
                contact = Contact(account_id=row.extra["account_id"], **data)
                if owner := row.values.get("relationship_owner"):
                    contact.relationship_owner_id = owner.pk
                contact.created_at = contact.updated_at = now
                creates.append(contact)
            else:
                contact = row.target
                for name, value in row.changes.items():
                    setattr(contact, name, value)
                    fields.add(name)
                contact.version += 1
                contact.updated_at = now
                updates.append(contact)
            if contact.status == ContactStatus.LEFT and contact.left_on is None:
                contact.left_on = timezone.localdate()
                fields.add("left_on")
            contact.search_text = search_key(contact.name, contact.mobile, contact.email, contact.title)
        if creates:
            Contact.objects.bulk_create(creates, batch_size=500)
            Contact.history.bulk_history_create(creates, batch_size=500, default_user=self.actor, default_change_reason=_("Import"))
        if updates:
            Contact.objects.bulk_update(updates, sorted(fields), batch_size=500)
            Contact.history.bulk_history_create(
                updates, batch_size=500, update=True, default_user=self.actor, default_change_reason=_("Import")
            )
        touched = {r.extra["account_id"] for r in rows}
        summaries.touch("contacts", touched)
        for chunk in chunks(list(touched)):
            Account.objects.filter(pk__in=chunk).update(updated_at=now)

