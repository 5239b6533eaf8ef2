"""ABC care reads: the member programmes (会员计划) an account is in, from its tiers."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from kam.accounts.models import Account
from kam.activities.compliance import measure as compliance
from kam.activities.models import ServiceStandard


def member_programmes(account: Account) -> list[dict[str, Any]]:
    """The programmes of the tiers the account is in today (a tier's service standard with
    member benefits: the Pareto B accounts'), with their benefits."""
    found = []
    today = timezone.localdate()
    standards = list(ServiceStandard.objects.select_related("scheme").order_by("id"))
    tiers: dict[int, str] = {}  # per scheme: the account's tier today, read once
    for standard in standards:
        if not standard.member_benefits:
            continue
        if standard.scheme_id not in tiers:
            own = [s for s in standards if s.scheme_id == standard.scheme_id]
            tiers[standard.scheme_id] = compliance.tier_of_account(scheme=standard.scheme, day=today,
                                                                   account_id=account.pk, standards=own)
        if tiers[standard.scheme_id] == standard.tier:
            found.append({"scheme": standard.scheme, "tier": standard.scheme.tier_label(standard.tier),
                          "benefits": standard.member_benefits})
    return found
