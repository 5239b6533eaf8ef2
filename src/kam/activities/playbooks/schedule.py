"""Relationship playbooks: the spec's defaults and when a step falls due. Pure: no database.

A step is due `offset` days after the account entered the stage; a repeating one again
every `repeat` days while the stage lasts (or until `until` days after entry). Due dates
move to the next working day. Only dates from `earliest` to `latest` are produced: the
nightly run rolls the window forward, and steps long past are not created.
"""

from __future__ import annotations

from datetime import date, timedelta

from kam.core.calendar import next_working_day

# (stage, playbook name, [(title, kind, offset days, repeat days, until day)]) — loaded by
# migration 0003_playbooks; HQ edits them on the playbooks page.
DEFAULT_PLAYBOOKS = [
    ("initial", "初步合作期行动手册", [
        ("合作启动会", "meeting", 0, None, None),
        ("首次交付与验收", "delivery", 14, None, None),
        ("首月每周例会", "sync", 7, 7, 28),
        ("第二、三月每两周例会", "sync", 42, 14, None),
    ]),
    ("stable", "稳定合作期行动手册", [
        ("开通绿色通道（支持请求1小时内响应）", "delivery", 0, None, None),
        ("季度《客户价值报告》", "report", 7, 91, None),
    ]),
    # 深度绑定期 (1–3 years): cross-sell and up-sell, joint innovation and joint cases, the
    # executive meeting every six months.
    ("deep", "深度绑定期行动手册", [
        ("交叉销售与向上销售评估", "review", 14, 182, None),
        ("联合创新与案例打造", "innovation", 60, 365, None),
        ("高层会晤（每半年）", "executive", 30, 182, None),
    ]),
    # 价值共生期 (> 3 years): co-building the industry ecosystem, shared revenue or shared cost
    # deals (the source's example: 10 % of system sales), publishing the customer's success case.
    ("symbiosis", "价值共生期行动手册", [
        ("共建行业生态（行业论坛、白皮书、联合投资）", "ecosystem", 30, 365, None),
        ("收益共享、成本共担合作（如系统销售额的 10%）", "shared_deal", 60, 365, None),
        ("发布客户成功案例", "case", 120, 365, None),
    ]),
]

# The defaults the first release loaded, which migration 0006 replaces where HQ left them as they were.
EARLIER_DEFAULTS = {
    "deep": [("交叉销售与向上销售评估", "review", 14, 182, None), ("高层会晤（每半年）", "executive", 30, 182, None)],
    "symbiosis": [("联合创新研讨（每年）", "innovation", 30, 365, None), ("联合案例复盘（每年）", "review", 180, 365, None)],
}


def step_due_dates(
    *, entered_on: date, stage_ends: date | None, offset: int, repeat: int | None, until: int | None,
    earliest: date, latest: date,
) -> list[date]:
    """The working days a step falls due on for one account, within [earliest, latest]."""
    due: list[date] = []
    day = entered_on + timedelta(days=offset)
    last = entered_on + timedelta(days=until) if until is not None else None
    while day <= latest and (stage_ends is None or day < stage_ends) and (last is None or day <= last):
        if day >= earliest:
            shifted = next_working_day(day, include_today=True)
            if shifted not in due:
                due.append(shifted)
        if not repeat:
            break
        day += timedelta(days=repeat)
    return due
