"""Opportunities go into the accounts app's recycle bin with their account (registered from
SalesConfig.ready(), so the accounts app needs no import of sales)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kam.accounts.recycle.registry import BinnedWithAccount, register
from kam.sales.models import Opportunity


def _restore(*, actor: Any, pk: int) -> Opportunity:
    from kam.sales.opportunities.services import opportunity_restore

    return opportunity_restore(actor=actor, opportunity_id=pk)


register(BinnedWithAccount(kind="opportunity", plural="opportunities", label=_("Opportunities"), model=Opportunity,
                           restore=_restore, restored_url=lambda o: reverse("sales:opportunity", args=[o.pk])))
