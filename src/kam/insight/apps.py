from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    name = "kam.insight"
    label = "insight"
    verbose_name = _("Customer value, churn and early warning")
