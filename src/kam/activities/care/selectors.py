"""ABC care reads: the member programmes (会员计划) an account is in, from its tiers."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.utils import timezone

from kam.accounts.models import Account
from kam.activities.compliance import measure as compliance
from kam.activities.models import ServiceStandard


def member_programmes(account: Account) -> list[dict[str, Any]]:
    """The programmes of the tiers the account is in today (a tier's service standard with
    member benefits: the Pareto B accounts'), with their benefits."""
    found = []
    today = timezone.localdate()
    ids = np.array([account.pk], dtype=np.int64)
    for standard in ServiceStandard.objects.exclude(member_benefits="").select_related("scheme").order_by("id"):
        if compliance.tiers_of(scheme=standard.scheme, day=today, ids=ids)[0] == standard.tier:
            found.append({"scheme": standard.scheme, "tier": standard.scheme.tier_label(standard.tier),
                          "benefits": standard.member_benefits})
    return found
