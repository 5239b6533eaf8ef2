"""The service standards of the domain spec, as loaded into a new database.

Numbers per tier of each scheme (by scheme code and tier code, see tiering/defaults.py);
every one is a row HQ edits on the standards page. Periods are in months.
"""

from __future__ import annotations

MONTH, QUARTER, HALF_YEAR, YEAR = 1, 3, 6, 12


def _std(visits, visit_period, calls=0, call_period=MONTH, *, report=None, executive=None, response=24, support=0,
         member=""):
    return {"visits": visits, "visit_period": visit_period, "calls": calls, "call_period": call_period,
            "value_report_months": report, "executive_meeting_months": executive,
            "response_hours": response, "support_hours_per_year": support, "member_benefits": member}


# The B accounts' member programme (会员计划) of the Pareto scheme.
MEMBER_BENEFITS = "会员积分回馈；专属服务热线；业务优先受理；年度会员活动"


STANDARDS = {
    # Telecom practice: 水晶 (crystal, the lowest key-account level) 2 visits a quarter and a
    # call a month; each level above asks at least as much, the top ones with a green channel.
    "monthly-spend": {
        "K6": _std(2, MONTH, 4, MONTH, report=1, executive=6, response=1, support=120),
        "K5": _std(2, MONTH, 4, MONTH, report=3, executive=6, response=2, support=80),
        "K4": _std(1, MONTH, 2, MONTH, report=3, executive=12, response=4, support=48),
        "K3": _std(1, MONTH, 2, MONTH, report=3, response=8, support=32),
        "K2": _std(3, QUARTER, 1, MONTH, report=6, response=12, support=24),
        "K1": _std(2, QUARTER, 1, MONTH, response=24, support=16),
        # Top commercial customers (A/A+): a visit a quarter and a call a month.
        "CA": _std(1, QUARTER, 1, MONTH, response=48, support=8),
    },
    # Core value: a face-to-face meeting monthly; high potential: a needs review each quarter;
    # maintain: a revisit every six months.
    "value-potential": {
        "core": _std(1, MONTH, 1, MONTH, report=3, executive=6, response=8, support=48),
        "potential": _std(1, QUARTER, 1, MONTH, report=6, response=24, support=16),
        "maintain": _std(1, HALF_YEAR, 0, MONTH, response=48, support=6),
    },
    # A = one-to-one service with regular business analysis; B = member programme.
    "pareto-abc": {
        "A": _std(1, MONTH, 2, MONTH, report=3, executive=12, response=8, support=40),
        "B": _std(1, QUARTER, 1, QUARTER, response=24, support=8, member=MEMBER_BENEFITS),
    },
}
