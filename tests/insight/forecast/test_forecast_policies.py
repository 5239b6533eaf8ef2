"""The refit service enforces its policy whoever calls it: nothing is fitted for a refused role."""

from __future__ import annotations

import pytest

from kam.core.errors import PermissionDenied
from kam.insight.forecast import policies, services
from kam.insight.models import ModelFit

pytestmark = pytest.mark.django_db


def test_a_specialist_may_not_refit_through_the_service(org):
    assert not policies.may_refit(org.specialist_a) and policies.may_refit(org.director)
    with pytest.raises(PermissionDenied):
        services.refit_now(actor=org.specialist_a)
    assert not ModelFit.objects.exists()
