"""The demo's organisation: HQ, four branches, twelve offices and users of every role."""

from __future__ import annotations

import random
from dataclasses import dataclass

from kam.core.models import OrgUnit, Region, Role, User
from kam.core.services import orgunit_create, user_create

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
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰海波斌鹏飞宇浩然婷雪"


@dataclass
class DemoUsers:
    all: list
    specialists_by_office: dict
    managers_by_branch: dict
    hq: list


def names(rng: random.Random, count: int) -> list[str]:
    """`count` different personal names (a surname and one or two given characters)."""
    found: set[str] = set()
    while len(found) < count:
        found.add(rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))))
    return sorted(found, key=lambda n: rng.random())


def build_org(password_hash: str) -> DemoUsers:
    hq = orgunit_create(code="HQ", name="广东省公司总部", kind=OrgUnit.Kind.HQ)
    people = iter(names(random.Random(7), 200))
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


def build_regions() -> dict[str, Region]:
    province = Region.objects.get(code="44")
    regions = {}
    for order, (code, name) in enumerate(CITIES):
        regions[code], _ = Region.objects.get_or_create(
            code=code, defaults={"name": name, "parent": province, "sort_order": 100 + order}
        )
    return regions
