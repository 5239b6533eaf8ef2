"""The project stages (项目阶段) in order and the probability of each, from KAM settings."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from kam.core.conf import config
from kam.sales.models import CLOSED_STAGES, OPEN_STAGES, Stage

# The order of the board's columns and of the funnel.
STAGE_ORDER: tuple[str, ...] = (*OPEN_STAGES, *CLOSED_STAGES)


def stage_probabilities() -> dict[str, Decimal]:
    """{stage: probability as a fraction} from OPPORTUNITY_STAGE_PROBABILITIES ("contact:10,…").

    A stage left out, an unknown stage or a percentage outside 0–100 is a configuration
    error and says which.
    """
    percents = config().OPPORTUNITY_STAGE_PROBABILITIES  # parsed, each 0–100
    found: dict[str, Decimal] = {}
    for stage, percent in percents.items():
        if stage not in Stage.values:
            raise ValueError(_("OPPORTUNITY_STAGE_PROBABILITIES names an unknown stage: %(stage)s") % {"stage": stage})
        found[stage] = Decimal(percent) / 100
    missing = [s for s in Stage.values if s not in found]
    if missing:
        raise ValueError(_("OPPORTUNITY_STAGE_PROBABILITIES has no probability for: %(stages)s")
                         % {"stages": ", ".join(missing)})
    return found


def weighted(amount: Decimal, stage: str, probabilities: dict[str, Decimal] | None = None) -> Decimal:
    """The amount times the probability of its stage, in 元 rounded half up to the fen (四舍五入)."""
    probabilities = probabilities or stage_probabilities()
    return (amount * probabilities[stage]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
