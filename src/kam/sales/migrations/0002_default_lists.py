"""The spec's lead sources, common competitors and win/loss reasons; all stay editable."""

from django.db import migrations

SOURCES = [
    ("direct", "直接接触"), ("media", "媒体广告"), ("website", "网站"), ("phone", "电话咨询"),
    ("exhibition", "展会"), ("referral", "以老带新"), ("campaign", "地推活动"), ("partner", "合作伙伴"),
]
COMPETITORS = [
    ("cmcc", "中国移动"), ("cucc", "中国联通"), ("ctcc", "中国电信"), ("cbn", "中国广电"),
    ("huawei_cloud", "华为云"), ("aliyun", "阿里云"), ("tencent_cloud", "腾讯云"), ("other", "其他"),
]
REASONS = [
    ("price", "价格", "both"), ("solution_fit", "方案契合度", "both"), ("relationship", "客户关系", "both"),
    ("service", "服务能力", "both"), ("brand", "品牌与信誉", "both"), ("technology", "技术实力", "both"),
    ("delivery", "交付周期", "both"), ("chain_coverage", "决策链覆盖不足", "lost"),
    ("rival_low_price", "竞争对手低价", "lost"), ("cancelled", "项目取消或延期", "lost"),
    ("other", "其他", "both"),
]


def seed(apps, schema_editor):
    for order, (code, name) in enumerate(SOURCES):
        apps.get_model("sales", "LeadSource").objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    for order, (code, name) in enumerate(COMPETITORS):
        apps.get_model("sales", "Competitor").objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    for order, (code, name, applies_to) in enumerate(REASONS):
        apps.get_model("sales", "OutcomeReason").objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": order, "applies_to": applies_to})


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
