"""Demo accounts with their contacts, and the group customers' virtual teams.

Accounts are made a batch at a time: the batch's numbers are drawn at once with numpy, the
names and codes a row at a time (a name must not repeat), and the rows go in through the
bulk path with the ids they were given beforehand, so the contacts can name their account
(and a departed contact its successor) without reading anything back. Only the used names
and credit codes are kept from one batch to the next, so a million accounts fit in memory.
Bulk rows get no creation history row (the history tab starts with their first real change;
the sales demo writes their way through the customer states).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

import numpy as np
from django.db import transaction

from kam.accounts.models import (
    Account,
    AccountPair,
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
from kam.core.bulk import insert_values, reserve_ids
from kam.core.models import Industry, OrgUnit, Region, Role
from kam.core.text import normalise_name, pinyin_full, pinyin_initials, wide_pairs
from kam.core.validators import uscc_complete
from kam.demo import batches
from kam.demo.org import BRANCHES, GIVEN, SURNAMES, DemoUsers
from kam.demo.progress import Progress

BATCH = 5000
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
TITLES = [
    ("总经理", DecisionRole.DECISION_MAKER), ("董事长", DecisionRole.DECISION_MAKER),
    ("副总经理", DecisionRole.INFLUENCER), ("信息中心主任", DecisionRole.GATEKEEPER),
    ("IT经理", DecisionRole.GATEKEEPER), ("采购经理", DecisionRole.PROCUREMENT),
    ("财务总监", DecisionRole.INFLUENCER), ("办公室主任", DecisionRole.USER),
    ("行政专员", DecisionRole.USER), ("技术专家", DecisionRole.EXPERT), ("业务主管", DecisionRole.USER),
]
DEPARTMENTS = ["总经办", "信息中心", "采购部", "财务部", "行政部", "业务部"]
BANKS = ["中国工商银行", "中国建设银行", "中国银行", "中国农业银行", "招商银行", "广发银行", "交通银行", "平安银行"]
ROADS = ["天河路", "深南大道", "季华路", "东莞大道", "中山大道", "滨海大道"]
MARKETS = ["华南", "全国", "广东省内", "珠三角", "海外及全国"]
SALES_CAPACITY = ["年销售额稳定增长", "区域龙头，渠道覆盖全省", "以直销为主，大客户集中", "电商与线下并重", "订单季节性明显"]
FINANCIAL_STATUS = ["现金流良好", "负债率偏高", "盈利稳定", "回款周期较长", "融资能力强"]
KEY_TECHNOLOGY = ["工业互联网平台", "自动化生产线", "自有研发中心", "云计算与大数据", "专利工艺", ""]
PROBLEMS = ["网络带宽不足，分支机构互联成本高", "信息化投入分散，缺少统一规划", "对价格敏感，比价频繁", "决策链长，审批周期久", ""]
ADVANTAGES = ["与我方合作历史长，信任度高", "行业影响力大，可做标杆案例", "付款及时，信用良好", "业务扩张快，需求持续增长", ""]
STRATEGIES = ["三年内在全省新增网点", "推进数字化转型", "拓展海外市场", "聚焦主业、压降成本", ""]
TRADE_TERMS = ["月结30天", "预付款", "季度结算", "按合同分期付款"]
BANK_RATINGS = ["AAA", "AA", "A", "BBB", "BB", ""]
PAYMENT_TERMS = [0, 15, 30, 45, 60, 90]
MOBILE_PREFIXES = ["134", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159",
                   "182", "183", "187", "188", "130", "131", "132", "155", "156", "186", "133", "153", "180", "189"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LIFECYCLE_WEIGHTS = {LifecycleStatus.UNIDENTIFIED: 4, LifecycleStatus.PROSPECT: 14, LifecycleStatus.OPPORTUNITY: 10,
                     LifecycleStatus.ORDERED: 8, LifecycleStatus.ACTIVE: 58, LifecycleStatus.CHURNED: 6}
SIGNED = (LifecycleStatus.ORDERED, LifecycleStatus.ACTIVE, LifecycleStatus.CHURNED)
CHANNEL_WEIGHTS = {Channel.KEY: 35, Channel.COMMERCIAL: 40, Channel.PUBLIC: 15, Channel.TRANSIENT: 10}
ENTERPRISE_WEIGHTS = {EnterpriseType.PRIVATE: 60, EnterpriseType.STATE_OWNED: 20, EnterpriseType.FOREIGN: 12,
                      EnterpriseType.JOINT_VENTURE: 8}
ATTITUDE_WEIGHTS = {Attitude.SUPPORTIVE: 50, Attitude.NEUTRAL: 38, Attitude.OPPOSED: 12}
# Days before the build on which an account entered our books (its first customer state).
ENTERED_DAYS = (60, 700)

ACCOUNT_FIELDS = (
    "id", "code", "name", "short_name", "uscc", "legal_representative", "enterprise_type", "industry_id",
    "region_id", "address", "phone", "staff_size", "parent_id", "bank_name", "bank_account", "market_region",
    "sales_capacity", "financial_status", "key_technology", "problems", "advantages", "future_strategy",
    "trade_terms", "growth_potential", "asset_scale", "annual_revenue", "bank_rating", "credit_limit",
    "payment_term_days", "rolling_credit", "receivables", "receivables_over_90_days", "overdue_amount",
    "prepaid_only", "owner_id", "unit_id", "channel", "lifecycle_status", "relationship_stage", "signed_on",
    "search_text", "name_key", "created_at", "updated_at", "created_by_id",
)
OWNER, SEARCH_TEXT = ACCOUNT_FIELDS.index("owner_id"), ACCOUNT_FIELDS.index("search_text")
CONTACT_FIELDS = (
    "id", "account_id", "name", "title", "department", "mobile", "email", "wechat", "birthday", "decision_role",
    "attitude", "influence", "relationship_strength", "relationship_owner_id", "is_key", "status", "left_on",
    "successor_id", "search_text", "created_at", "updated_at",
)


@cache
def keys(fragment: str) -> tuple[str, str]:
    """(initials, full pinyin) of a fragment of a name, remembered: fragments repeat."""
    return pinyin_initials(fragment), pinyin_full(fragment)


def search_text(name: str, code: str, uscc: str, fragments: list[str], short_name: str = "") -> str:
    """The string text.search_key(name, short_name, code, uscc) builds, from cached fragments."""
    initials = "".join(keys(f)[0] for f in fragments)
    full = "".join(keys(f)[1] for f in fragments)
    parts = [name.lower(), initials, full, short_name, *(keys(short_name) if short_name else ()),
             code.lower(), uscc.lower()]
    return "|".join(dict.fromkeys(p for p in parts if p))


def _weighted(gen: np.random.Generator, weights: dict, n: int) -> list:
    values = list(weights)
    p = np.array(list(weights.values()), dtype=np.float64)
    return [values[i] for i in gen.choice(len(values), size=n, p=p / p.sum()).tolist()]


def _pick(gen: np.random.Generator, options: list, n: int) -> list:
    return [options[i] for i in gen.integers(len(options), size=n).tolist()]


def _person_names(gen: np.random.Generator, n: int) -> list[str]:
    surname = gen.integers(len(SURNAMES), size=n).tolist()
    first, second = gen.integers(len(GIVEN), size=(2, n)).tolist()
    double = (gen.random(n) < 0.5).tolist()
    return [SURNAMES[s] + GIVEN[a] + (GIVEN[b] if d else "")
            for s, a, b, d in zip(surname, first, second, double, strict=True)]


def _cents(values: np.ndarray) -> np.ndarray:
    """Amounts in 元 rounded to the fen, as 元 (the rounding Decimal.quantize would do)."""
    return np.rint(values * 100) / 100


@dataclass
class Built:
    accounts: int
    contacts: int
    groups: list[tuple[int, int]]  # (account id, owner id) of the group customers


class AccountMaker:
    """The accounts of one build: places, owners and the names and codes used so far."""

    def __init__(self, *, seed: int, users: DemoUsers, regions: dict[str, Region], today: date, now: datetime) -> None:
        self.py = random.Random(seed)
        self.gen = np.random.default_rng(seed)
        self.users, self.today, self.now = users, today, now
        self.regions = {code: region.pk for code, region in regions.items()}
        industries = dict(Industry.objects.values_list("code", "pk"))
        self.industries = industries
        self.industry_codes = [c for c in industries if c != "other"]
        weights = np.array([3 if c in ("manufacturing", "gov", "retail", "internet") else 1
                            for c in self.industry_codes], dtype=np.float64)
        self.industry_p = weights / weights.sum()
        units = {pk: parent for pk, parent in OrgUnit.objects.values_list("pk", "parent_id")}
        branch_code = dict(OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH).values_list("pk", "code"))
        city = {code: (region, short) for code, _n, region, short, _o in BRANCHES}
        self.office_ids = sorted(users.specialists_by_office)
        self.office_city = {o: city[branch_code[units[o]]] for o in self.office_ids}
        self.owners = {o: [u.pk for u in people] for o, people in users.specialists_by_office.items()}
        self.used_names: set[str] = set()
        self.used_uscc: set[str] = set()
        self.groups: list[tuple[int, str, str, int]] = []  # (id, name, industry, owner)

    # --- names ------------------------------------------------------------------------------

    def _uscc(self, region: str) -> str:
        while True:
            body = "91" + region + "00" + "".join(self.py.choices(USCC_ALPHABET, k=9))
            value = uscc_complete(body)
            if value not in self.used_uscc:
                self.used_uscc.add(value)
                return value

    def _company(self, city_short: str, industry: str) -> list[str]:
        rng = self.py
        if industry == "gov":
            return [city_short + "市", rng.choice(DISTRICTS[city_short]), rng.choice(GOV_WORDS)]
        words = INDUSTRY_WORDS.get(industry) or ["实业"]
        return [city_short, rng.choice(BRAND) + rng.choice(BRAND), rng.choice(words), rng.choice(FORMS)]

    def _fragments(self, n: int, industry: str, city_short: str, group: tuple | None) -> list[str]:
        rng = self.py
        if group is not None:
            fragments = [group[1][:-4].replace("集团", "").replace("有限责任", "").replace("股份", "")[:8],
                         city_short, rng.choice(["分公司", "子公司", "营业部"])]
        else:
            fragments = self._company(city_short, industry)
            for _retry in range(5):
                if "".join(fragments) not in self.used_names:
                    break
                fragments = self._company(city_short, industry)
        if "".join(fragments) in self.used_names:
            fragments[-1] = f"第{n}{fragments[-1]}" if industry == "gov" else fragments[-1]
            fragments.insert(-1, str(n % 97 + 1) + "号")
        self.used_names.add("".join(fragments))
        return fragments

    # --- a batch ----------------------------------------------------------------------------

    def batch(self, first: int, count: int, ids: list[int], groups: int = 0) -> list[tuple]:
        """Rows (ACCOUNT_FIELDS) of accounts numbered first … first + count - 1; the first
        `groups` of them are group customers."""
        gen = self.gen
        offices = [self.office_ids[i] for i in gen.integers(len(self.office_ids), size=count).tolist()]
        owner_pick = gen.random(count).tolist()
        industry = [self.industry_codes[i] for i in gen.choice(len(self.industry_codes), size=count,
                                                              p=self.industry_p).tolist()]
        subsidiary = (gen.random(count) < 0.03).tolist()
        group_pick = gen.integers(1 << 30, size=count).tolist()
        has_uscc = (gen.random(count) < 0.92).tolist()
        lifecycle = _weighted(gen, LIFECYCLE_WEIGHTS, count)
        signed_days = gen.integers(20, 2501, size=count).tolist()
        revenue = _cents(gen.lognormal(15.5, 1.4, size=count))
        credit = _cents(revenue / 12 * gen.integers(1, 4, size=count))
        receivables = _cents(credit * gen.random(count))
        overdue = np.where(gen.random(count) < 0.12, _cents(receivables * gen.random(count) * 0.3), 0.0)
        over_90 = _cents(overdue * gen.random(count))  # the oldest part of it
        asset = _cents(revenue * gen.uniform(1.5, 6, size=count))
        rolling = np.where(gen.random(count) < 0.3, _cents(credit / 2), np.nan)
        prepaid = (gen.random(count) < 0.1).tolist()
        staff = (gen.lognormal(5, 1.2, size=count).astype(np.int64) + 5).tolist()
        enterprise = _weighted(gen, ENTERPRISE_WEIGHTS, count)
        channel = _weighted(gen, CHANNEL_WEIGHTS, count)
        road = _pick(gen, ROADS, count)
        number = gen.integers(1, 1000, size=count).tolist()
        phone = gen.integers(30000000, 90000000, size=count).tolist()
        bank = _pick(gen, BANKS, count)
        account_no = gen.integers(0, 10**10, size=(2, count)).tolist()
        legal = _person_names(gen, count)
        entered = gen.integers(ENTERED_DAYS[0], ENTERED_DAYS[1] + 1, size=count).tolist()
        texts = [_pick(gen, options, count) for options in (
            MARKETS, SALES_CAPACITY, FINANCIAL_STATUS, KEY_TECHNOLOGY, PROBLEMS, ADVANTAGES, STRATEGIES,
            TRADE_TERMS, list(Level.values), BANK_RATINGS, PAYMENT_TERMS)]
        revenue_l, credit_l, receivables_l = revenue.tolist(), credit.tolist(), receivables.tolist()
        overdue_l, over_90_l, asset_l = overdue.tolist(), over_90.tolist(), asset.tolist()
        rolling_l = [None if v != v else v for v in rolling.tolist()]
        rows = []
        for i in range(count):
            n = first + i
            office = offices[i]
            region, city_short = self.office_city[office]
            people = self.owners[office]
            owner = people[int(owner_pick[i] * len(people))]
            group = None
            if i < groups:
                name, code_industry = GROUPS[len(self.groups)]
                fragments = [name[:2], name[2:-4], name[-4:]]
                self.used_names.add(name)
            else:
                code_industry = industry[i]
                if self.groups and subsidiary[i]:
                    group = self.groups[group_pick[i] % len(self.groups)]
                    code_industry = group[2]
                fragments = self._fragments(n, code_industry, city_short, group)
                name = "".join(fragments)
            code = f"KA{n:08d}"
            uscc = self._uscc(region) if has_uscc[i] else ""
            status = lifecycle[i]
            account_channel = channel[i]
            signed_on = self.today - timedelta(days=signed_days[i]) if status in SIGNED else None
            stage = ""
            if signed_on:
                months = (self.today - signed_on).days / 30.4
                stage = (RelationshipStage.INITIAL if months < 3 else RelationshipStage.STABLE if months < 12
                         else RelationshipStage.DEEP if months < 36 else RelationshipStage.SYMBIOSIS)
            short_name = fragments[0] + fragments[1] if len(fragments) > 2 and code_industry != "gov" else ""
            text = search_text(name, code, uscc, fragments, short_name)
            if i < groups:
                account_channel, status = Channel.KEY, LifecycleStatus.ACTIVE
                short_name = name[:6]
                text = search_text(name, code, uscc, [name[:6], name[6:]], short_name)
                self.groups.append((ids[i], name, code_industry, owner))
            market, capacity, financial, technology, problems, advantages, strategy, terms, growth, rating, \
                term_days = (t[i] for t in texts)
            rows.append((
                ids[i], code, name, short_name, uscc or None, legal[i],
                EnterpriseType.GOVERNMENT if code_industry == "gov" else enterprise[i],
                self.industries[code_industry], self.regions[region],
                f"{fragments[0]}{road[i]}{number[i]}号", f"020-{phone[i]}", staff[i],
                group[0] if group else None, bank[i] + city_short + "分行",
                f"{account_no[0][i]:010d}{account_no[1][i] % 10**9:09d}", market, capacity, financial, technology,
                problems, advantages, strategy, terms, growth, asset_l[i], revenue_l[i], rating, credit_l[i],
                term_days, rolling_l[i], receivables_l[i], over_90_l[i], overdue_l[i], prepaid[i],
                owner, office, account_channel, status, stage, signed_on, text, normalise_name(name)[:200],
                self.now - timedelta(days=entered[i]), self.now, owner,
            ))
        return rows


def contact_counts(gen: np.random.Generator, n: int) -> np.ndarray:
    """How many contacts each of `n` accounts has: one for about one in eight, else two to eight."""
    return np.minimum(np.where(gen.random(n) < 0.12, 1, gen.integers(2, 9, size=n)), len(TITLES))


def contact_rows(gen: np.random.Generator, accounts: list[tuple[int, int]], sizes: np.ndarray, ids: list[int],
                 today: date, now: datetime) -> list[tuple]:
    """Rows (CONTACT_FIELDS, with `ids`) for `accounts` ((id, owner id) pairs) with `sizes`
    contacts each, of different titles; a departed decision maker (not the first contact)
    has a named successor half the time, the account's first contact still in post."""
    n = len(accounts)
    if not n:
        return []
    order = np.argsort(gen.random((n, len(TITLES))), axis=1)  # each account's titles, shuffled
    taken = np.arange(len(TITLES))[None, :] < sizes[:, None]
    title_at = order[taken]
    position = np.broadcast_to(np.arange(len(TITLES)), (n, len(TITLES)))[taken]
    owner_of = np.repeat(np.arange(n), sizes)
    total = int(sizes.sum())
    titles = title_at.tolist()
    roles = [TITLES[t][1] for t in titles]
    is_dm = np.array([r == DecisionRole.DECISION_MAKER for r in roles])
    left = (position > 0) & is_dm & (gen.random(total) < 0.25)
    names = _person_names(gen, total)
    prefix = _pick(gen, MOBILE_PREFIXES, total)
    mobile_no = gen.integers(0, 10**8, size=total).tolist()
    email_no = gen.integers(1, 100, size=total).tolist()
    wechat = (gen.random(total) < 0.6).tolist()
    wechat_no = gen.integers(100, 1000, size=total).tolist()
    born = gen.random(total) < 0.5
    years, months, days = gen.integers(1962, 1997, size=total), gen.integers(1, 13, size=total), \
        gen.integers(1, 29, size=total)
    birthday = [date(y, m, d) if b else None for y, m, d, b in zip(
        years.tolist(), months.tolist(), days.tolist(), born.tolist(), strict=True)]
    department = _pick(gen, DEPARTMENTS, total)
    attitude = _weighted(gen, ATTITUDE_WEIGHTS, total)
    influence = _pick(gen, list(Level.values), total)
    strength = _pick(gen, list(RelationshipStrength.values), total)
    key_draw = (gen.random(total) < 0.15).tolist()
    left_days = gen.integers(1, 201, size=total).tolist()
    successor_draw = (gen.random(total) < 0.5).tolist()
    # The account's first contact in post, for the departed ones that have a successor.
    first_active: dict[int, int] = {}
    left_l = left.tolist()
    for k, a in enumerate(owner_of.tolist()):
        if not left_l[k] and a not in first_active:
            first_active[a] = ids[k]
    rows = []
    for k, a in enumerate(owner_of.tolist()):
        account_id, owner_id = accounts[a]
        name = names[k]
        title, role = TITLES[titles[k]]
        mobile = f"{prefix[k]}{mobile_no[k]:08d}"
        gone = left_l[k]
        pinyin = keys(name)[1]
        rows.append((
            ids[k], account_id, name, title, department[k], mobile, f"{pinyin}{email_no[k]}@example.cn",
            f"wx_{pinyin}{wechat_no[k]}" if wechat[k] else "", birthday[k], role, attitude[k],
            Level.HIGH if role in (DecisionRole.DECISION_MAKER, DecisionRole.EXPERT) else influence[k],
            strength[k], owner_id, role in (DecisionRole.DECISION_MAKER, DecisionRole.GATEKEEPER) or key_draw[k],
            ContactStatus.LEFT if gone else ContactStatus.ACTIVE,
            today - timedelta(days=left_days[k]) if gone else None,
            first_active.get(a) if gone and successor_draw[k] else None,
            "|".join(dict.fromkeys(p for p in [name, *keys(name), mobile, title, *keys(title)] if p)),
            now, now,
        ))
    return rows


def build_accounts(*, seed: int, count: int, users: DemoUsers, regions: dict[str, Region], today: date,
                   now: datetime, progress: bool) -> Built:
    """`count` accounts (the first few of them group customers, a few others their
    subsidiaries) with their contacts; a transaction per batch. The names and codes are
    drawn in order (none may repeat), the contacts of each batch from its own generator."""
    maker = AccountMaker(seed=seed, users=users, regions=regions, today=today, now=now)
    groups = max(1, min(len(GROUPS), count // 50))
    total = max(count, groups)

    def prepare(batch: tuple[int, int, int]) -> tuple:
        k, first, size = batch
        with transaction.atomic():
            ids = reserve_ids(Account, size)
        rows = maker.batch(first, size, ids, groups=groups if first == 1 else 0)
        gen = np.random.default_rng([seed, 1, k])
        sizes = contact_counts(gen, size)
        with transaction.atomic():
            contact_ids = reserve_ids(Contact, int(sizes.sum()))
        return rows, gen, sizes, contact_ids

    def make(prepared: tuple) -> tuple[list[tuple], list[tuple], list[tuple]]:
        rows, gen, sizes, contact_ids = prepared
        pairs = [(pair, r[0]) for r in rows for pair in wide_pairs(r[SEARCH_TEXT])]
        return rows, contact_rows(gen, [(r[0], r[OWNER]) for r in rows], sizes, contact_ids, today, now), pairs

    def write(made: tuple[list[tuple], list[tuple], list[tuple]]) -> int:
        rows, contacts, pairs = made
        insert_values(Account, ACCOUNT_FIELDS, rows)
        insert_values(AccountPair, ("pair", "account_id"), pairs, prepared=True)
        insert_values(Contact, CONTACT_FIELDS, contacts)
        return len(contacts)

    pieces = [(k, first, size) for k, (first, size) in enumerate(_batches(total, BATCH))]
    with Progress(progress, "accounts", total) as bar:
        # The group customers first, written before any subsidiary can name one as its parent.
        contacts = batches.run(pieces[:1], prepare=prepare, make=make, write=write,
                               done=lambda piece, _n: bar.advance(piece[2]))
        contacts += batches.run(pieces[1:], prepare=prepare, make=make, write=write,
                                done=lambda piece, _n: bar.advance(piece[2]))
    with transaction.atomic():
        _teams(random.Random(seed + 5), maker.groups, users)
    return Built(accounts=total, contacts=sum(contacts), groups=[(g[0], g[3]) for g in maker.groups])


def _batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    """(first number, count) of each batch of `total` rows numbered from 1."""
    for start in range(0, total, size):
        yield start + 1, min(size, total - start)


def _teams(rng: random.Random, groups: list[tuple[int, str, str, int]], users: DemoUsers) -> None:
    """Group customers get a virtual team across levels: HQ director, branch managers, support."""
    members = []
    managers = list(users.managers_by_branch.values())
    director = next(u for u in users.hq if u.role == Role.DIRECTOR)
    specialists = [u for people in users.specialists_by_office.values() for u in people]
    for account_id, _name, _industry, owner_id in groups:
        chosen = {owner_id}
        for user, role in [(director, TeamRole.EXECUTIVE_SPONSOR), *[(m, TeamRole.ACCOUNT_MANAGER) for m in rng.sample(managers, 2)],
                           (rng.choice(specialists), TeamRole.TECHNICAL_SUPPORT)]:
            if user.pk not in chosen:
                chosen.add(user.pk)
                members.append(AccountTeamMember(account_id=account_id, user=user, team_role=role))
    AccountTeamMember.objects.bulk_create(members)
