"""Fixtures for sales: an account in each branch and a way to open an opportunity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from factories import AccountFactory
from kam.sales.opportunities.services import opportunity_create


@dataclass
class Accounts:
    a: object  # branch A's account, owned by specialist_a
    a2: object  # another of branch A's accounts, owned by specialist_a2
    b: object  # branch B's account, owned by specialist_b


@pytest.fixture
def accounts(org) -> Accounts:
    return Accounts(
        a=AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司"),
        a2=AccountFactory(owner=org.specialist_a2, name="广州越秀商贸有限公司"),
        b=AccountFactory(owner=org.specialist_b, name="深圳南山数据服务有限公司"),
    )


@pytest.fixture
def open_opportunity():
    def create(actor, account, **kw):
        kw.setdefault("name", "专线扩容项目")
        kw.setdefault("amount", Decimal("250000"))
        kw.setdefault("expected_close", date(2027, 3, 31))
        return opportunity_create(actor=actor, account=account, **kw)

    return create
