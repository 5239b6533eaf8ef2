"""The spec's churn reasons, three churn definitions and the early-warning rules; all stay
editable (names in Chinese; the English shows through the translation of the rule)."""

from django.db import migrations

REASONS = [
    ("rival_voice", "使用对手长话业务"), ("rival_data", "使用对手数据业务"), ("own_business", "客户自身经营问题"),
    ("price", "价格因素"), ("service", "服务问题"), ("relocation", "搬迁或合并"), ("other", "其他"),
]
DEFINITIONS = [
    ("spend-drop", "月均消费下降", "spend_drop", {"drop_percent": 50, "baseline_months": 6, "recent_months": 3}),
    ("no-revenue", "长期无收入", "no_revenue", {"days": 120}),
    ("competitor", "转投竞争对手", "competitor", {}),
]
RULES = [
    ("spend_drop", "消费下降", "high", {"drop_percent": 30, "baseline_months": 6, "recent_months": 3}),
    ("payment_overdue", "欠费逾期", "high", {"min_amount": "1000", "share_of_credit_percent": 0}),
    ("no_contact", "长期未联系", "medium", {"grace_days": 0}),
    ("key_contact_left", "关键人离职未接替", "high", {}),
    ("competitor_quote", "竞争对手报价", "medium", {}),
    ("p_alive_low", "活跃概率过低", "high", {"threshold": 0.3}),
    ("p_alive_fall", "活跃概率骤降", "medium", {"drop": 0.3}),
    ("satisfaction_drop", "满意度下降", "medium", {"drop": 2, "below": 6}),
]


def seed(apps, schema_editor):
    for order, (code, name) in enumerate(REASONS):
        apps.get_model("insight", "ChurnReason").objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": order})
    for order, (code, name, rule, params) in enumerate(DEFINITIONS):
        apps.get_model("insight", "ChurnDefinition").objects.get_or_create(
            code=code, defaults={"name": name, "rule": rule, "params": params, "sort_order": order})
    for order, (code, name, severity, params) in enumerate(RULES):
        apps.get_model("insight", "WarningRule").objects.get_or_create(
            code=code, defaults={"name": name, "severity": severity, "params": params, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("insight", "0001_initial"), ("sales", "0002_default_lists")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
