"""The seven schemes of the domain spec with its numbers, as loaded into a new database.

Every number here is a default: each scheme is a row whose parameters HQ edits.
"""

from __future__ import annotations

TIERS_ABC = [
    {"code": "A", "label": "A 类（重点客户）", "label_en": "A (key accounts)"},
    {"code": "B", "label": "B 类", "label_en": "B"},
    {"code": "C", "label": "C 类", "label_en": "C"},
]

MONTHLY_SPEND_BANDS = [
    # Key accounts (大客户) from 3,000 元/月 in six levels, 水晶 the lowest …
    {"code": "K6", "label": "皇冠", "label_en": "Crown", "min": "1000000"},
    {"code": "K5", "label": "钻石", "label_en": "Diamond", "min": "300000"},
    {"code": "K4", "label": "白金", "label_en": "Platinum", "min": "100000"},
    {"code": "K3", "label": "金卡", "label_en": "Gold", "min": "30000"},
    {"code": "K2", "label": "银卡", "label_en": "Silver", "min": "10000"},
    {"code": "K1", "label": "水晶", "label_en": "Crystal", "min": "3000"},
    # … then commercial customers (商业客户) in four levels, A/A+ the top at 1,500–3,000.
    {"code": "CA", "label": "商业 A/A+", "label_en": "Commercial A/A+", "min": "1500"},
    {"code": "CB", "label": "商业 B", "label_en": "Commercial B", "min": "800"},
    {"code": "CC", "label": "商业 C", "label_en": "Commercial C", "min": "300"},
    {"code": "CD", "label": "商业 D", "label_en": "Commercial D", "min": "0"},
]

ANNUAL_VALUE_BANDS = [
    {"code": "S", "label": "战略级", "label_en": "Strategic", "min": "5000000"},
    {"code": "K", "label": "重点级", "label_en": "Key", "min": "1000000"},
    {"code": "B", "label": "基础级", "label_en": "Basic", "min": "500000"},
]

BCG_PARAMS = {
    "value_share": "0.20",  # a large current value: the top 20 % of accounts by revenue
    "growth_cut": "0.20",  # growing fast: at least +20 % on the window before
    "decline_band": "0.30",  # a stable business: not falling more than 30 %
    "future_share": "0.50",  # a large future value: the projection reaches the top half's revenue
    "growth_cap": "1",  # the projection grows this window at most ×2 (the model's forecast first)
    "min_margin_rate": "0",  # 野猫: margin below 0 % of revenue (where margins are known) …
    "overdue_share": "0.10",  # … or receivables over 90 days of ≥ 10 % of the window's revenue …
    "complaints_min": 3,  # … or three complaints in the window (where complaints are known)
}

INDICATOR_WEIGHTS = {"differentiation": "0.25", "value_for_price": "0.20", "preference": "0.20",
                     "key_people": "0.20", "buying_rules": "0.15"}

PORTFOLIO_GRID = {
    "high": {"poor": "develop", "fair": "develop", "good": "defend"},
    "medium": {"poor": "minimal", "fair": "selective", "good": "maintain"},
    "low": {"poor": "exit", "fair": "minimal", "good": "selective"},
}

SCHEMES = [
    {
        "code": "pareto-abc", "name": "二八法则 ABC", "name_en": "Pareto ABC", "method": "pareto",
        "window_months": 12,
        # "measure": "margin" ranks by profit (按利润) instead of revenue (按销售额)
        "params": {"tiers": ["A", "B", "C"], "cuts": ["0.80", "0.95"], "measure": "revenue"},
        "tiers": TIERS_ABC,
    },
    {
        "code": "monthly-spend", "name": "月均消费分级", "name_en": "Average monthly spend", "method": "monthly_spend",
        "window_months": 3,
        "params": {"bands": MONTHLY_SPEND_BANDS},
        "tiers": [{k: v for k, v in b.items() if k != "min"} for b in MONTHLY_SPEND_BANDS],
    },
    {
        "code": "annual-value", "name": "年度合同额分级", "name_en": "Annual contract value", "method": "annual_value",
        "window_months": 12,
        "params": {"bands": ANNUAL_VALUE_BANDS},
        "tiers": [{k: v for k, v in b.items() if k != "min"} for b in ANNUAL_VALUE_BANDS],
    },
    {
        "code": "value-potential", "name": "价值 × 潜力矩阵", "name_en": "Value × potential", "method": "value_potential",
        "window_months": 12,
        "params": {"tiers": ["core", "potential", "maintain", "optimise"], "core_share": "0.10",
                   "medium_share": "0.50", "fast_growth": "0.20", "stable_band": "0.10",
                   # the potential axis: the model's forecast (falling back to growth where an
                   # account has none) or the growth on the window before
                   "potential": "model"},
        "tiers": [
            {"code": "core", "label": "核心价值客户", "label_en": "Core value"},
            {"code": "potential", "label": "高潜力客户", "label_en": "High potential"},
            {"code": "maintain", "label": "维持型客户", "label_en": "Maintain"},
            {"code": "optimise", "label": "待优化客户", "label_en": "To optimise"},
        ],
    },
    {
        "code": "bcg", "name": "波士顿矩阵", "name_en": "BCG matrix", "method": "bcg",
        "window_months": 12,
        # The source's matrix: 金牛 large and stable, 明星 fast-growing with a large future value
        # (small today allowed), 野猫 loses money or harms the brand, 瘦狗 the rest.
        "params": {"tiers": ["star", "cow", "wildcat", "dog"], **BCG_PARAMS},
        "tiers": [
            {"code": "star", "label": "明星", "label_en": "Star", "group": "value"},
            {"code": "cow", "label": "金牛", "label_en": "Cash cow", "group": "value"},
            {"code": "wildcat", "label": "野猫", "label_en": "Wildcat"},
            {"code": "dog", "label": "瘦狗", "label_en": "Dog"},
        ],
    },
    {
        "code": "portfolio", "name": "吸引力 × 关系组合", "name_en": "Attractiveness × relationship",
        "method": "portfolio", "window_months": 12,
        # Attractiveness from the scorecard's indicators (差异性, 价值/价格, 偏好, 接近关键人物,
        # 购买规则) blended with potential (volume, margin); by revenue rank where not rated.
        "params": {"attractiveness_cuts": ["0.20", "0.50"], "relationship_cuts": ["0.70", "0.40"],
                   "use_stated_potential": False, "indicator_weights": INDICATOR_WEIGHTS,
                   "potential_weight": "0.30", "attractiveness_levels": ["0.67", "0.34"], "grid": PORTFOLIO_GRID},
        "tiers": [
            {"code": "develop", "label": "发展", "label_en": "Develop"},
            {"code": "defend", "label": "防御", "label_en": "Defend"},
            {"code": "maintain", "label": "保持", "label_en": "Maintain"},
            {"code": "selective", "label": "选择性保持", "label_en": "Selective"},
            {"code": "minimal", "label": "少量保持", "label_en": "Minimal"},
            {"code": "exit", "label": "退出", "label_en": "Exit"},
        ],
    },
    {
        "code": "scorecard", "name": "综合打分", "name_en": "Weighted scorecard", "method": "scorecard",
        "window_months": 12,
        "params": {"weights": {"value": "0.35", "growth": "0.20", "margin": "0.15", "relationship": "0.20",
                               "potential": "0.10"},
                   "cutoffs": [{"code": "A", "min": 80}, {"code": "B", "min": 65}, {"code": "C", "min": 50},
                               {"code": "D", "min": 0}]},
        "tiers": [{"code": c, "label": f"{c} 级", "label_en": c} for c in "ABCD"],
    },
]
