"""Fixtures for activities: two branches' accounts with contacts, and a way to log an activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from factories import AccountFactory, ContactFactory
from kam.activities import services


@dataclass
class World:
    a: object  # branch A's account, owned by specialist_a
    b: object  # branch B's account, owned by specialist_b
    boss_a: object  # decision maker of a
    clerk_a: object  # a user-role contact of a
    boss_b: object


@pytest.fixture
def world(org) -> World:
    a = AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司")
    b = AccountFactory(owner=org.specialist_b, name="深圳南山数据服务有限公司")
    return World(
        a=a, b=b,
        boss_a=ContactFactory(actor=org.specialist_a, account=a, name="李总", decision_role="decision_maker"),
        clerk_a=ContactFactory(actor=org.specialist_a, account=a, name="小陈", decision_role="user"),
        boss_b=ContactFactory(actor=org.specialist_b, account=b, name="王总", decision_role="decision_maker"),
    )


@pytest.fixture
def log_activity():
    def log(actor, account, **kw):
        kw.setdefault("kind", "visit")
        kw.setdefault("occurred_at", timezone.now() - timedelta(hours=2))
        kw.setdefault("summary", "介绍专线方案，客户关注价格")
        return services.activity_log(actor=actor, account=account, **kw)

    return log
