"""The tiering services enforce who governs the tiering themselves: a specialist calling them
directly, with no page in between, is refused and nothing is written."""

from __future__ import annotations

from datetime import date

import pytest

from kam.core.errors import PermissionDenied
from kam.tiering import services
from kam.tiering.models import Scheme, Snapshot


def test_a_specialist_may_not_start_a_snapshot(org):
    scheme = Scheme.objects.get(code="pareto-abc")
    before = Snapshot.objects.count()
    with pytest.raises(PermissionDenied):
        services.snapshot_start(actor=org.specialist_a, scheme=scheme, as_of=date(2026, 1, 31))
    with pytest.raises(PermissionDenied):
        services.snapshot_create(actor=org.manager_a, scheme=scheme, as_of=date(2026, 1, 31))
    assert Snapshot.objects.count() == before


def test_a_specialist_may_not_run_a_what_if(org):
    scheme = Scheme.objects.get(code="pareto-abc")
    with pytest.raises(PermissionDenied):
        services.what_if(actor=org.specialist_a, scheme=scheme, as_of=date(2026, 1, 31), params=scheme.params)


def test_a_manager_may_not_change_a_scheme(org):
    scheme = Scheme.objects.get(code="pareto-abc")
    before = scheme.params
    with pytest.raises(PermissionDenied):
        services.scheme_update(actor=org.manager_a, scheme=scheme, params={**scheme.params, "cuts": ["0.70", "0.90"]})
    assert Scheme.objects.get(pk=scheme.pk).params == before
