"""Cadence arithmetic on hand-computed cases (kam.activities.cadence, no database)."""

from datetime import date

import numpy as np
import pytest

from kam.activities.compliance import cadence
from kam.activities.compliance.cadence import Cadence, Segment, Source

CRYSTAL = Cadence(2, 3)  # 2 visits a quarter
MONTHLY = Cadence(1, 1)


def seg(start, end, *tiers):
    return Segment(start, end, np.array(tiers, dtype=object))


def test_a_whole_quarter_requires_the_standard_exactly():
    exact = cadence.required_exact([seg(date(2026, 1, 1), date(2026, 3, 31), "K1")], {"K1": CRYSTAL}, 1)
    assert exact[0] == pytest.approx(2.0)
    assert cadence.rounded(exact)[0] == 2


def test_half_a_quarter_requires_half():
    # 45 of the 90 days of Q1 2026
    exact = cadence.required_exact([seg(date(2026, 1, 1), date(2026, 2, 14), "K1")], {"K1": CRYSTAL}, 1)
    assert exact[0] == pytest.approx(1.0)


def test_a_period_across_two_quarters_charges_each_its_share():
    # March (31 of Q1's 90 days) and April (30 of Q2's 91 days)
    exact = cadence.required_exact([seg(date(2026, 3, 1), date(2026, 4, 30), "K1")], {"K1": CRYSTAL}, 1)
    assert exact[0] == pytest.approx(2 * 31 / 90 + 2 * 30 / 91)
    assert cadence.rounded(exact)[0] == 1  # 1.35 → 1


def test_rounding_is_half_up_once():
    assert list(cadence.rounded(np.array([0.0, 0.49, 0.5, 1.5, 2.4999, 2.5]))) == [0, 0, 1, 2, 2, 3]


def test_a_tier_change_mid_period_charges_each_tier_for_its_days():
    # given an account crystal for the first half of a 30-day month and monthly-visit gold after
    segments = [seg(date(2026, 6, 1), date(2026, 6, 15), "K1"), seg(date(2026, 6, 16), date(2026, 6, 30), "K3")]
    exact = cadence.required_exact(segments, {"K1": CRYSTAL, "K3": MONTHLY}, 1)
    # crystal: 2 × 15/91 of Q2; gold: 1 × 15/30 of June
    assert exact[0] == pytest.approx(2 * 15 / 91 + 0.5)
    assert cadence.rounded(exact)[0] == 1


def test_untiered_and_unknown_tiers_require_nothing():
    exact = cadence.required_exact([seg(date(2026, 1, 1), date(2026, 3, 31), "K1", "", "CD")], {"K1": CRYSTAL}, 3)
    assert list(exact) == pytest.approx([2.0, 0.0, 0.0])


def test_required_is_clipped_to_the_period_measured():
    segments = [seg(date(2025, 12, 1), date(2026, 12, 31), "K1")]
    exact = cadence.required_exact(segments, {"K1": CRYSTAL}, 1, date(2026, 4, 1), date(2026, 6, 30))
    assert exact[0] == pytest.approx(2.0)


def test_compliance_is_capped_per_account_and_full_when_nothing_is_required():
    required = np.array([2, 2, 0, 3])
    done = np.array([1, 5, 0, 0])
    assert list(cadence.compliance(required, done)) == pytest.approx([0.5, 1.0, 1.0, 0.0])
    # the roll-up does not let the over-served account make up for the others
    assert cadence.rolled_up(required, done) == pytest.approx((1 + 2 + 0 + 0) / 7)
    assert cadence.rolled_up(np.array([0]), np.array([4])) == 1.0


def test_allowed_gaps():
    assert CRYSTAL.gap_days == 46  # 91.3 / 2
    assert MONTHLY.gap_days == 31
    assert Cadence(1, 6).gap_days == 183
    assert Cadence(0, 1).gap_days is None
    with pytest.raises(ValueError):
        Cadence(1, 5)


def test_overdue_when_the_last_contact_is_older_than_the_gap_or_missing():
    as_of = date(2026, 6, 30)
    last = np.array([as_of.toordinal() - 46, as_of.toordinal() - 47, cadence.NEVER, cadence.NEVER])
    gap = np.array([46, 46, 46, 0])  # the last account's tier asks for nothing
    assert list(cadence.overdue(last, gap, as_of)) == [False, True, True, False]
    assert list(cadence.days_since(last, as_of)) == [46, 47, -1, -1]
    due = cadence.next_due(last, gap, as_of)
    assert [date.fromordinal(int(d)) if d != cadence.NEVER else None for d in due] == [
        as_of, date(2026, 6, 29), as_of, None]


def test_gaps_follow_the_tier():
    assert list(cadence.gaps(np.array(["K1", "K3", "", "CD"], dtype=object), {"K1": CRYSTAL, "K3": MONTHLY})) == [
        46, 31, 0, 0]


def test_the_latest_snapshot_on_or_before_each_day_decides():
    sources = [Source(1, date(2026, 3, 31)), Source(2, date(2026, 5, 15)), Source(3, date(2026, 9, 30))]
    runs = cadence.decisive_sources(date(2026, 4, 1), date(2026, 6, 30), sources)
    assert runs == [(date(2026, 4, 1), date(2026, 5, 14), 1), (date(2026, 5, 15), date(2026, 6, 30), 2)]


def test_days_before_any_snapshot_have_no_tier():
    runs = cadence.decisive_sources(date(2026, 1, 1), date(2026, 1, 31), [Source(7, date(2026, 1, 10))])
    assert runs == [(date(2026, 1, 1), date(2026, 1, 9), None), (date(2026, 1, 10), date(2026, 1, 31), 7)]


def test_the_annual_list_of_the_year_wins_over_later_snapshots():
    # given the 2026 list frozen from a snapshot of 2025-12-31 and a fresh snapshot in March
    sources = [Source(1, date(2025, 12, 31), frozen_year=2026), Source(2, date(2026, 3, 1)), Source(3, date(2025, 6, 30))]
    runs = cadence.decisive_sources(date(2025, 12, 1), date(2026, 3, 31), sources)
    # then 2025 follows its snapshots (the list's own snapshot from its date) and all of 2026 the list
    assert runs == [(date(2025, 12, 1), date(2025, 12, 30), 3), (date(2025, 12, 31), date(2026, 3, 31), 1)]
    # and a later list replaces it only in its own year
    runs = cadence.decisive_sources(date(2026, 12, 1), date(2027, 1, 31), [*sources, Source(4, date(2026, 12, 31), 2027)])
    assert runs == [(date(2026, 12, 1), date(2026, 12, 31), 1), (date(2027, 1, 1), date(2027, 1, 31), 4)]


def test_tiers_on_a_day_and_buckets():
    segments = [seg(date(2026, 6, 1), date(2026, 6, 15), "K1"), seg(date(2026, 6, 16), date(2026, 6, 30), "K3")]
    assert list(cadence.tiers_on(date(2026, 6, 20), segments, 1)) == ["K3"]
    assert list(cadence.tiers_on(date(2026, 7, 1), segments, 1)) == [""]
    weeks = cadence.buckets(date(2026, 6, 1), date(2026, 6, 30), "week")  # 2026-06-01 is a Monday
    assert weeks[0] == (date(2026, 6, 1), date(2026, 6, 7)) and weeks[-1] == (date(2026, 6, 29), date(2026, 6, 30))
    assert cadence.buckets(date(2026, 1, 15), date(2026, 3, 31), "month") == [
        (date(2026, 1, 15), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 31))]


def test_the_clock_starts_when_the_tier_first_asks_for_the_kind():
    # accounts: 0 crystal throughout; 1 untiered until 06-01, then crystal; 2 gold (monthly)
    # then crystal (both ask for visits); 3 crystal, then untiered for a day, then crystal again
    segments = [seg(date(2026, 3, 1), date(2026, 5, 31), "K1", "", "K3", "K1"),
                seg(date(2026, 6, 1), date(2026, 6, 9), "K1", "K1", "K1", ""),
                seg(date(2026, 6, 10), date(2026, 6, 30), "K1", "K1", "K1", "K1")]
    since = cadence.required_since(segments, {"K1": CRYSTAL, "K3": MONTHLY}, date(2026, 6, 30), 4)
    assert [date.fromordinal(int(d)) for d in since] == [date(2026, 3, 1), date(2026, 6, 1), date(2026, 3, 1),
                                                         date(2026, 6, 10)]
    # a tier asking for nothing on the day, and a day no segment covers, have no clock
    assert list(cadence.required_since(segments, {"K3": MONTHLY}, date(2026, 6, 30), 4)) == [cadence.NEVER] * 4
    assert list(cadence.required_since(segments, {"K1": CRYSTAL}, date(2026, 7, 1), 4)) == [cadence.NEVER] * 4


def test_an_account_that_just_entered_a_tier_is_not_overdue_before_the_gap_has_passed():
    gap = np.array([46, 46, 46])
    never = np.array([cadence.NEVER] * 3)
    entered = np.array([date(2026, 6, 1).toordinal(), date(2026, 5, 15).toordinal(), date(2026, 5, 14).toordinal()])
    # 29, 46 and 47 days in the tier without a contact on 06-30: only beyond 46 is overdue
    assert list(cadence.overdue(never, gap, date(2026, 6, 30), entered)) == [False, False, True]
    # the next visit falls due 46 days after the entry, or after a later contact
    last = np.array([date(2026, 6, 20).toordinal(), cadence.NEVER, cadence.NEVER])
    due = cadence.next_due(last, gap, date(2026, 6, 30), entered)
    assert [date.fromordinal(int(d)) for d in due] == [date(2026, 8, 5), date(2026, 6, 30), date(2026, 6, 29)]
    # a contact before the entry does not count against the newcomer
    old = np.array([date(2026, 1, 5).toordinal()] * 3)
    assert list(cadence.overdue(old, gap, date(2026, 6, 30), entered)) == [False, False, True]
