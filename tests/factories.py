"""Test factories. They build through the services, so test data obeys the same rules."""

from __future__ import annotations

import itertools
import random

import factory

from kam.accounts import services as account_services
from kam.accounts.models import Account, Contact
from kam.core.models import OrgUnit, Role, User
from kam.core.services import orgunit_create, user_create
from kam.core.validators import uscc_complete

_seq = itertools.count(1)
PASSWORD = "test-pass-2026!"


def valid_uscc(seed: int | None = None) -> str:
    """A USCC with a correct GB 32100 check digit, different on every call unless seeded."""
    rng = random.Random(seed if seed is not None else next(_seq) * 7919)
    region = rng.choice(["440100", "440300", "110105", "310115"])
    org = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return uscc_complete(f"91{region}{org}")


def unit(code: str, name: str, kind: str, parent: OrgUnit | None = None) -> OrgUnit:
    return orgunit_create(code=code, name=name, kind=kind, parent=parent)


def user(username: str, role: str, unit: OrgUnit, **kw) -> User:
    return user_create(username=username, role=role, unit=unit, password=PASSWORD, **kw)


class AccountFactory(factory.Factory):
    """Account via `account_create`; pass actor=… (defaults to the owner)."""

    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"测试{['广州', '深圳', '佛山', '东莞'][n % 4]}第{n}号科技有限公司")
    code = factory.Sequence(lambda n: f"T{n:06d}")

    @classmethod
    def _create(cls, model_class, *, actor=None, owner=None, confirm_similar=True, **data):
        actor = actor or owner
        if owner is not None:
            data["owner"] = owner
        return account_services.account_create(actor=actor, data=data, confirm_similar=confirm_similar)


class ContactFactory(factory.Factory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"联系人{n}")
    mobile = factory.Sequence(lambda n: f"138{n:08d}")

    @classmethod
    def _create(cls, model_class, *, actor, account, **data):
        return account_services.contact_create(actor=actor, account=account, data=data)


__all__ = ["AccountFactory", "ContactFactory", "PASSWORD", "Role", "unit", "user", "valid_uscc"]
