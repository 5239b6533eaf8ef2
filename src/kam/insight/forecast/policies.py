"""Who may refit the customer-base models (the service enforces it, the models page asks),
and who reads the models' workings."""

from __future__ import annotations

from typing import Any

from kam.core.models import Role
from kam.core.policies import is_active_user, is_hq


def may_refit(user: Any) -> bool:
    """Headquarters refit the models now (every account's scores change)."""
    return is_hq(user)


def may_see_model_details(user: Any) -> bool:
    """Analysts and headquarters read the fits' parameters, log-likelihoods and model names;
    everyone else reads the forecasts in plain words (购买活跃概率, 预计消费)."""
    return is_hq(user) or (is_active_user(user) and user.role == Role.ANALYST)
