"""Default industries and provincial regions; both lists stay editable in the admin."""

from django.db import migrations

INDUSTRIES = [
    ("gov", "党政军"), ("manufacturing", "采掘制造"), ("real_estate", "房产物业"), ("finance", "金融"),
    ("education", "教育"), ("logistics", "交通物流"), ("internet", "互联网"), ("healthcare", "医疗卫生"),
    ("retail", "商贸零售"), ("energy", "能源化工"), ("telecom_media", "电信传媒"), ("agriculture", "农林牧渔"),
    ("construction", "建筑施工"), ("hospitality", "酒店餐饮"), ("other", "其他"),
]
PROVINCES = [
    ("11", "北京市"), ("12", "天津市"), ("13", "河北省"), ("14", "山西省"), ("15", "内蒙古自治区"),
    ("21", "辽宁省"), ("22", "吉林省"), ("23", "黑龙江省"), ("31", "上海市"), ("32", "江苏省"),
    ("33", "浙江省"), ("34", "安徽省"), ("35", "福建省"), ("36", "江西省"), ("37", "山东省"),
    ("41", "河南省"), ("42", "湖北省"), ("43", "湖南省"), ("44", "广东省"), ("45", "广西壮族自治区"),
    ("46", "海南省"), ("50", "重庆市"), ("51", "四川省"), ("52", "贵州省"), ("53", "云南省"),
    ("54", "西藏自治区"), ("61", "陕西省"), ("62", "甘肃省"), ("63", "青海省"), ("64", "宁夏回族自治区"),
    ("65", "新疆维吾尔自治区"), ("71", "台湾省"), ("81", "香港特别行政区"), ("82", "澳门特别行政区"),
]


def seed(apps, schema_editor):
    Industry = apps.get_model("core", "Industry")
    Region = apps.get_model("core", "Region")
    for order, (code, name) in enumerate(INDUSTRIES):
        Industry.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    for order, (code, name) in enumerate(PROVINCES):
        Region.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
