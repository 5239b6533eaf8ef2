"""A deterministic demo dataset: a provincial operator's key-account organisation.

`build_demo(accounts=2000, seed=2026)` creates HQ, four branches, twelve offices,
users of every role, and accounts with contacts, groups, account teams and a year of
activities (kam.demo.activities). The same seed always gives the same data (the
activities' year ends on the day of the build). Accounts and contacts are bulk-inserted so that
100,000 accounts load in a few minutes; bulk rows get no creation history row (the
history tab starts with their first real change).
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from kam.accounts.models import (
    Account,
    AccountTeamMember,
    Attitude,
    Channel,
    Contact,
    ContactStatus,
    DecisionRole,
    EnterpriseType,
    Level,
    LifecycleStatus,
    RelationshipStage,
    RelationshipStrength,
    TeamRole,
)
from kam.core.conf import config
from kam.core.models import Industry, OrgUnit, Region, Role, User
from kam.core.services import orgunit_create, user_create
from kam.core.text import normalise_name, pinyin_full, pinyin_initials
from kam.core.validators import uscc_complete
from kam.demo.activities import build_activities
from kam.demo.insight import build_insight
from kam.demo.revenue import build_revenue, build_snapshots
from kam.demo.sales import build_sales

BRANCHES = [
    ("GZ", "广州分公司", "4401", "广州", [("TH", "天河经营部"), ("YX", "越秀经营部"), ("PY", "番禺片区")]),
    ("SZ", "深圳分公司", "4403", "深圳", [("NS", "南山经营部"), ("FT", "福田经营部"), ("BA", "宝安片区")]),
    ("FS", "佛山分公司", "4406", "佛山", [("CC", "禅城经营部"), ("NH", "南海经营部"), ("SD", "顺德片区")]),
    ("DG", "东莞分公司", "4419", "东莞", [("NC", "南城经营部"), ("CA", "长安片区"), ("SL", "松山湖片区")]),
]
CITIES = [
    ("4401", "广州市"), ("4403", "深圳市"), ("4406", "佛山市"), ("4419", "东莞市"), ("4404", "珠海市"),
    ("4405", "汕头市"), ("4413", "惠州市"), ("4420", "中山市"), ("4407", "江门市"), ("4408", "湛江市"),
]
BRAND = list("华金盛宏鑫达祥瑞丰泰兴隆昌恒通源嘉伟天宇立信海新中南粤美长远创和力安康") + [
    "华南", "岭南", "珠江", "南粤", "羊城", "鹏城", "五羊", "白云", "越秀", "东方", "汇智", "蓝海",
]
INDUSTRY_WORDS = {
    "manufacturing": ["新材料", "精密机械", "电子", "模具", "陶瓷", "家电", "五金制品", "塑胶"],
    "real_estate": ["置业", "物业管理", "房地产开发", "城市更新"],
    "finance": ["融资租赁", "小额贷款", "投资", "保险代理"],
    "education": ["教育科技", "职业培训", "学校"],
    "logistics": ["物流", "供应链", "运输", "货运代理"],
    "internet": ["网络科技", "信息技术", "软件", "数据服务"],
    "healthcare": ["医疗器械", "医药", "健康管理"],
    "retail": ["商贸", "百货", "连锁超市", "进出口贸易"],
    "energy": ["能源", "化工", "燃气"],
    "construction": ["建设工程", "建筑装饰", "市政工程"],
    "hospitality": ["酒店管理", "餐饮管理"],
    "agriculture": ["农业发展", "生态农业"],
    "telecom_media": ["文化传媒", "广告"],
}
FORMS = ["有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司"]
GROUPS = [
    ("中国移动通信集团广东有限公司", "telecom_media"), ("中国南方电网有限责任公司", "energy"),
    ("广州汽车集团股份有限公司", "manufacturing"), ("美的集团股份有限公司", "manufacturing"),
    ("广东省交通集团有限公司", "logistics"), ("保利发展控股集团股份有限公司", "real_estate"),
    ("广州医药集团有限公司", "healthcare"), ("广东粤海控股集团有限公司", "energy"),
    ("广州地铁集团有限公司", "logistics"), ("深圳市投资控股有限公司", "finance"),
]
DISTRICTS = {
    "广州": ["天河区", "越秀区", "海珠区", "番禺区", "白云区", "黄埔区", "花都区", "南沙区", "增城区", "从化区"],
    "深圳": ["南山区", "福田区", "罗湖区", "宝安区", "龙岗区", "龙华区", "光明区", "坪山区", "盐田区"],
    "佛山": ["禅城区", "南海区", "顺德区", "三水区", "高明区"],
    "东莞": ["南城街道", "东城街道", "莞城街道", "长安镇", "虎门镇", "松山湖", "塘厦镇", "常平镇", "厚街镇"],
}
GOV_WORDS = ["人民政府办公室", "公安局", "教育局", "卫生健康局", "税务局", "交通运输局", "中心医院", "第一中学"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰海波斌鹏飞宇浩然婷雪"
TITLES = [
    ("总经理", DecisionRole.DECISION_MAKER), ("董事长", DecisionRole.DECISION_MAKER),
    ("副总经理", DecisionRole.INFLUENCER), ("信息中心主任", DecisionRole.GATEKEEPER),
    ("IT经理", DecisionRole.GATEKEEPER), ("采购经理", DecisionRole.PROCUREMENT),
    ("财务总监", DecisionRole.INFLUENCER), ("办公室主任", DecisionRole.USER),
    ("行政专员", DecisionRole.USER), ("技术专家", DecisionRole.EXPERT), ("业务主管", DecisionRole.USER),
]
BANKS = ["中国工商银行", "中国建设银行", "中国银行", "中国农业银行", "招商银行", "广发银行", "交通银行", "平安银行"]
SALES_CAPACITY = ["年销售额稳定增长", "区域龙头，渠道覆盖全省", "以直销为主，大客户集中", "电商与线下并重", "订单季节性明显"]
FINANCIAL_STATUS = ["现金流良好", "负债率偏高", "盈利稳定", "回款周期较长", "融资能力强"]
KEY_TECHNOLOGY = ["工业互联网平台", "自动化生产线", "自有研发中心", "云计算与大数据", "专利工艺", ""]
PROBLEMS = ["网络带宽不足，分支机构互联成本高", "信息化投入分散，缺少统一规划", "对价格敏感，比价频繁", "决策链长，审批周期久", ""]
ADVANTAGES = ["与我方合作历史长，信任度高", "行业影响力大，可做标杆案例", "付款及时，信用良好", "业务扩张快，需求持续增长", ""]
STRATEGIES = ["三年内在全省新增网点", "推进数字化转型", "拓展海外市场", "聚焦主业、压降成本", ""]
MOBILE_PREFIXES = ["134", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159",
                   "182", "183", "187", "188", "130", "131", "132", "155", "156", "186", "133", "153", "180", "189"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
BATCH = 5000


@dataclass
class DemoUsers:
    all: list
    specialists_by_office: dict
    managers_by_branch: dict
    hq: list


def _progress(enabled: bool, label: str, done: int, total: int, started: float) -> None:
    if not enabled:
        return
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done / max(time.monotonic() - started, 1e-6)
    sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} {rate:,.0f}/s")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


@cache
def _keys(fragment: str) -> tuple[str, str]:
    return pinyin_initials(fragment), pinyin_full(fragment)


def _search_text(name: str, code: str, uscc: str, fragments: list[str], short_name: str = "") -> str:
    """The string text.search_key(name, short_name, code, uscc) builds, from cached fragments."""
    initials = "".join(_keys(f)[0] for f in fragments)
    full = "".join(_keys(f)[1] for f in fragments)
    parts = [name.lower(), initials, full, short_name, *(_keys(short_name) if short_name else ()),
             code.lower(), uscc.lower()]
    return "|".join(dict.fromkeys(p for p in parts if p))


def _org(password_hash: str) -> DemoUsers:
    hq = orgunit_create(code="HQ", name="广东省公司总部", kind=OrgUnit.Kind.HQ)
    people = iter(_names(random.Random(7), 200))
    users: list[User] = []

    def make(username, role, unit):
        user = user_create(username=username, role=role, unit=unit, display_name=next(people))
        user.password = password_hash
        user.save(update_fields=["password"])
        users.append(user)
        return user

    hq_users = [
        make("admin", Role.ADMIN, hq), make("director", Role.DIRECTOR, hq), make("director2", Role.DIRECTOR, hq),
        make("gm", Role.GENERAL_MANAGER, hq), make("analyst", Role.ANALYST, hq),
    ]
    specialists: dict[int, list[User]] = {}
    managers: dict[int, User] = {}
    for code, name, _city, _short, offices in BRANCHES:
        branch = orgunit_create(code=code, name=name, kind=OrgUnit.Kind.BRANCH, parent=hq)
        managers[branch.pk] = make(f"{code.lower()}_manager", Role.MANAGER, branch)
        if code == "GZ":
            make("gz_analyst", Role.ANALYST, branch)
        for office_code, office_name in offices:
            office = orgunit_create(
                code=f"{code}-{office_code}", name=office_name, kind=OrgUnit.Kind.OFFICE, parent=branch
            )
            count = 3 if office_code in ("TH", "NS") else 2
            specialists[office.pk] = [
                make(f"{code.lower()}_{office_code.lower()}_spec{i}", Role.SPECIALIST, office)
                for i in range(1, count + 1)
            ]
    return DemoUsers(all=users, specialists_by_office=specialists, managers_by_branch=managers, hq=hq_users)


def _names(rng: random.Random, count: int) -> list[str]:
    names = set()
    while len(names) < count:
        names.add(rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))))
    return sorted(names, key=lambda n: rng.random())


def _regions() -> dict[str, Region]:
    province = Region.objects.get(code="44")
    regions = {}
    for order, (code, name) in enumerate(CITIES):
        regions[code], _ = Region.objects.get_or_create(
            code=code, defaults={"name": name, "parent": province, "sort_order": 100 + order}
        )
    return regions


def _uscc(rng: random.Random, region: str, used: set[str]) -> str:
    while True:
        body = "91" + region + "00" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        value = uscc_complete(body)
        if value not in used:
            used.add(value)
            return value


def _company(rng: random.Random, city_short: str, industry_code: str) -> list[str]:
    words = INDUSTRY_WORDS.get(industry_code) or ["实业"]
    if industry_code == "gov":
        return [city_short + "市", rng.choice(DISTRICTS[city_short]), rng.choice(GOV_WORDS)]
    brand = rng.choice(BRAND) + rng.choice(BRAND)
    return [city_short, brand, rng.choice(words), rng.choice(FORMS)]


def build_demo(*, accounts: int = 2000, seed: int = 2026, progress: bool = True, only_if_empty: bool = False) -> str:
    if Account.objects.exists() or OrgUnit.objects.filter(code="HQ").exists():
        if only_if_empty:
            return "Demo data not loaded: the database already holds data."
        return "Demo data not loaded: the database already holds data. Use an empty database (KAM_HOME or DATABASE_URL)."
    started = time.monotonic()
    rng = random.Random(seed)
    password_hash = make_password(config().DEMO_PASSWORD)
    with transaction.atomic():
        users = _org(password_hash)
        regions = _regions()
    industries = {i.code: i for i in Industry.objects.all()}
    industry_codes = [c for c in industries if c != "other"]
    industry_weights = [3 if c in ("manufacturing", "gov", "retail", "internet") else 1 for c in industry_codes]
    offices = {u.pk: u for u in OrgUnit.objects.filter(kind=OrgUnit.Kind.OFFICE)}
    branch_of_office = {pk: unit.parent_id for pk, unit in offices.items()}
    branch_city = {OrgUnit.objects.get(code=code).pk: (city, short) for code, _n, city, short, _o in BRANCHES}
    office_ids = sorted(users.specialists_by_office)
    used_uscc: set[str] = set()
    used_names: set[str] = set()
    # One day for every builder: revenue, snapshots, activities and the models all end today,
    # so no analysis reads a month the demo has no revenue for.
    today = timezone.localdate()

    def city_short_of(office_id: int) -> str:
        return branch_city[branch_of_office[office_id]][1]

    def account_row(n: int, fragments: list[str], industry_code: str, office_id: int, parent_id=None):
        name = "".join(fragments)
        branch_id = branch_of_office[office_id]
        city, _short = branch_city[branch_id]
        owner = rng.choice(users.specialists_by_office[office_id])
        code = f"KA{n:08d}"
        uscc = _uscc(rng, city, used_uscc) if rng.random() < 0.92 else ""
        lifecycle = rng.choices(
            list(LifecycleStatus.values), weights=[4, 14, 10, 8, 58, 6]
        )[0]
        signed = lifecycle in (LifecycleStatus.ORDERED, LifecycleStatus.ACTIVE, LifecycleStatus.CHURNED)
        signed_on = today - timedelta(days=rng.randint(20, 2500)) if signed else None
        stage = ""
        if signed_on:
            months = (today - signed_on).days / 30.4
            stage = (RelationshipStage.INITIAL if months < 3 else RelationshipStage.STABLE if months < 12
                     else RelationshipStage.DEEP if months < 36 else RelationshipStage.SYMBIOSIS)
        revenue = Decimal(rng.lognormvariate(15.5, 1.4)).quantize(Decimal("1.00"))
        credit = (revenue / 12 * rng.choice([1, 2, 3])).quantize(Decimal("1.00"))
        receivables = (credit * Decimal(rng.random())).quantize(Decimal("1.00"))
        overdue = (receivables * Decimal(rng.random() * 0.3)).quantize(Decimal("1.00")) if rng.random() < 0.12 else Decimal("0.00")
        over_90_days = (overdue * Decimal(rng.random())).quantize(Decimal("1.00"))  # the oldest part of it
        short_name = fragments[0] + fragments[1] if len(fragments) > 2 and industry_code != "gov" else ""
        return Account(
            code=code, name=name, short_name=short_name,
            uscc=uscc or None,
            legal_representative=_names(rng, 1)[0],
            enterprise_type=EnterpriseType.GOVERNMENT if industry_code == "gov" else rng.choices(
                [EnterpriseType.PRIVATE, EnterpriseType.STATE_OWNED, EnterpriseType.FOREIGN, EnterpriseType.JOINT_VENTURE],
                weights=[60, 20, 12, 8])[0],
            industry=industries[industry_code],
            region=regions[city],
            address=f"{fragments[0]}{rng.choice(['天河路', '深南大道', '季华路', '东莞大道', '中山大道', '滨海大道'])}{rng.randint(1, 999)}号",
            phone=f"020-{rng.randint(30000000, 89999999)}",
            staff_size=int(rng.lognormvariate(5, 1.2)) + 5,
            parent_id=parent_id,
            bank_name=rng.choice(BANKS) + city_short_of(office_id) + "分行",
            bank_account="".join(rng.choice("0123456789") for _ in range(19)),
            market_region=rng.choice(["华南", "全国", "广东省内", "珠三角", "海外及全国"]),
            sales_capacity=rng.choice(SALES_CAPACITY), financial_status=rng.choice(FINANCIAL_STATUS),
            key_technology=rng.choice(KEY_TECHNOLOGY), problems=rng.choice(PROBLEMS),
            advantages=rng.choice(ADVANTAGES), future_strategy=rng.choice(STRATEGIES),
            trade_terms=rng.choice(["月结30天", "预付款", "季度结算", "按合同分期付款"]),
            growth_potential=rng.choice(Level.values),
            asset_scale=(revenue * Decimal(rng.uniform(1.5, 6))).quantize(Decimal("1.00")),
            annual_revenue=revenue,
            bank_rating=rng.choice(["AAA", "AA", "A", "BBB", "BB", ""]),
            credit_limit=credit, payment_term_days=rng.choice([0, 15, 30, 45, 60, 90]),
            rolling_credit=(credit / 2).quantize(Decimal("1.00")) if rng.random() < 0.3 else None,
            receivables=receivables, receivables_over_90_days=over_90_days,
            overdue_amount=overdue, prepaid_only=rng.random() < 0.1,
            owner=owner, unit_id=office_id,
            channel=rng.choices(list(Channel.values), weights=[35, 40, 15, 10])[0],
            lifecycle_status=lifecycle, relationship_stage=stage, signed_on=signed_on,
            search_text=_search_text(name, code, uscc, fragments, short_name),
            name_key=normalise_name(name)[:200],
            created_by=owner,
        )

    # Group customers first, so subsidiaries can point at them.
    n = 0
    groups: list[tuple[Account, str]] = []
    with transaction.atomic():
        for group_name, industry_code in GROUPS[: max(1, min(len(GROUPS), accounts // 50))]:
            n += 1
            office_id = rng.choice(office_ids)
            fragments = [group_name[:2], group_name[2:-4], group_name[-4:]]
            group = account_row(n, fragments, industry_code, office_id)
            group.channel, group.lifecycle_status = Channel.KEY, LifecycleStatus.ACTIVE
            group.short_name = group_name[:6]
            group.search_text = _search_text(
                group_name, group.code, group.uscc or "", [group_name[:6], group_name[6:]], group.short_name
            )
            group.save()
            groups.append((group, industry_code))
            used_names.add(group_name)
        _contacts_for(rng, [group for group, _ in groups], users, today)
    remaining = accounts - n
    rows: list[Account] = []
    contact_started = time.monotonic()
    created = 0
    while created < remaining:
        n += 1
        parent_id = None
        if groups and rng.random() < 0.03:
            group, industry_code = rng.choice(groups)
            parent_id = group.pk
            office_id = rng.choice(office_ids)
            city_short = branch_city[branch_of_office[office_id]][1]
            fragments = [group.name[:-4].replace("集团", "").replace("有限责任", "").replace("股份", "")[:8],
                         city_short, rng.choice(["分公司", "子公司", "营业部"])]
        else:
            industry_code = rng.choices(industry_codes, weights=industry_weights)[0]
            office_id = rng.choice(office_ids)
            city_short = branch_city[branch_of_office[office_id]][1]
            fragments = _company(rng, city_short, industry_code)
            for _retry in range(5):
                if "".join(fragments) not in used_names:
                    break
                fragments = _company(rng, city_short, industry_code)
        name = "".join(fragments)
        if name in used_names:
            fragments[-1] = f"第{n}{fragments[-1]}" if industry_code == "gov" else fragments[-1]
            fragments.insert(-1, str(n % 97 + 1) + "号")
            name = "".join(fragments)
        used_names.add(name)
        rows.append(account_row(n, fragments, industry_code, office_id, parent_id))
        created += 1
        if len(rows) >= BATCH or created == remaining:
            with transaction.atomic():
                saved = Account.objects.bulk_create(rows)
                _contacts_for(rng, saved if saved[0].pk else list(
                    Account.objects.filter(code__in=[r.code for r in rows]).order_by("id")), users, today)
            rows = []
            _progress(progress, "accounts", created, remaining, contact_started)
    with transaction.atomic():
        _teams(rng, groups, users)
    revenue_lines = build_revenue(seed=seed + 2, today=today)
    snapshots = build_snapshots(actor=User.objects.get(username="director"), today=today)
    activities, open_tasks = build_activities(seed=seed + 1, managers_by_branch=users.managers_by_branch)
    sales = build_sales(seed=seed + 3)
    insight = build_insight(seed=seed + 4, today=today)
    elapsed = time.monotonic() - started
    lines = [
        f"Demo data: {Account.objects.count():,} accounts, {Contact.objects.count():,} contacts, "
        f"{User.objects.count()} users, {OrgUnit.objects.count()} org units, "
        f"{revenue_lines:,} revenue lines, {snapshots} tier snapshots, "
        f"{activities:,} activities, {open_tasks:,} open tasks, {sales['leads']:,} leads, "
        f"{sales['opportunities']:,} opportunities, {sales['reviews']} deal reviews and "
        f"{sales['pool']} accounts in the public pool, {insight['surveys']:,} satisfaction surveys, "
        f"{insight['churn_events']:,} churn events, {insight['scored']:,} accounts scored and "
        f"{insight['warnings']:,} open warnings in {elapsed:.1f} s.",
        f"Password for every demo user: {config().DEMO_PASSWORD!r}",
    ]
    for user in demo_logins():
        lines.append(f"  {user.username:<16} {user.get_role_display():<28} {user.unit.name}")
    return "\n".join(lines)


def demo_logins() -> list[User]:
    """One user per role (and per branch for managers): the ones a newcomer tries first."""
    wanted = ["admin", "director", "gm", "analyst", "gz_manager", "sz_manager", "gz_th_spec1", "gz_th_spec2", "sz_ns_spec1"]
    found = {u.username: u for u in User.objects.filter(username__in=wanted).select_related("unit")}
    return [found[name] for name in wanted if name in found]


def _contacts_for(rng: random.Random, accounts: list[Account], users: DemoUsers, today: date) -> None:
    contacts: list[Contact] = []
    departed: list[tuple[int, int]] = []  # (index of departed contact, index of successor or -1)
    for account in accounts:
        count = 1 if rng.random() < 0.12 else rng.randint(2, 8)
        titles = rng.sample(TITLES, k=min(count, len(TITLES)))
        for i, (title, role) in enumerate(titles):
            name = _names(rng, 1)[0]
            mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99999999):08d}"
            left = i > 0 and role == DecisionRole.DECISION_MAKER and rng.random() < 0.25
            contact = Contact(
                account_id=account.pk, name=name, title=title,
                department=rng.choice(["总经办", "信息中心", "采购部", "财务部", "行政部", "业务部"]),
                mobile=mobile, email=f"{_keys(name)[1]}{rng.randint(1, 99)}@example.cn",
                wechat=f"wx_{_keys(name)[1]}{rng.randint(100, 999)}" if rng.random() < 0.6 else "",
                birthday=date(rng.randint(1962, 1996), rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.5 else None,
                decision_role=role,
                attitude=rng.choices(list(Attitude.values), weights=[50, 38, 12])[0],
                influence=Level.HIGH if role in (DecisionRole.DECISION_MAKER, DecisionRole.EXPERT) else rng.choice(Level.values),
                relationship_strength=rng.choice(RelationshipStrength.values),
                relationship_owner_id=account.owner_id,
                is_key=role in (DecisionRole.DECISION_MAKER, DecisionRole.GATEKEEPER) or rng.random() < 0.15,
                status=ContactStatus.LEFT if left else ContactStatus.ACTIVE,
                left_on=today - timedelta(days=rng.randint(1, 200)) if left else None,
                search_text="|".join(dict.fromkeys(
                    p for p in [name, *_keys(name), mobile, title, *_keys(title)] if p
                )),
            )
            contacts.append(contact)
            if left:
                departed.append((len(contacts) - 1, -1))
    saved = Contact.objects.bulk_create(contacts)
    if not departed or saved[0].pk is None:
        return
    # Half of the departed key contacts already have a named successor in the same account.
    updates = []
    for index, _ in departed:
        contact = saved[index]
        if rng.random() < 0.5:
            successor = next((c for c in saved if c.account_id == contact.account_id and c.pk != contact.pk
                              and c.status == ContactStatus.ACTIVE), None)
            if successor is not None:
                contact.successor_id = successor.pk
                updates.append(contact)
    Contact.objects.bulk_update(updates, ["successor"])


def _teams(rng: random.Random, groups: list, users: DemoUsers) -> None:
    """Group customers get a virtual team across levels: HQ director, branch managers, support."""
    members = []
    managers = list(users.managers_by_branch.values())
    director = next(u for u in users.hq if u.role == Role.DIRECTOR)
    specialists = [u for group in users.specialists_by_office.values() for u in group]
    for group, _industry in groups:
        chosen = {group.owner_id}
        for user, role in [(director, TeamRole.EXECUTIVE_SPONSOR), *[(m, TeamRole.ACCOUNT_MANAGER) for m in rng.sample(managers, 2)],
                           (rng.choice(specialists), TeamRole.TECHNICAL_SUPPORT)]:
            if user.pk not in chosen:
                chosen.add(user.pk)
                members.append(AccountTeamMember(account=group, user=user, team_role=role))
    AccountTeamMember.objects.bulk_create(members)
