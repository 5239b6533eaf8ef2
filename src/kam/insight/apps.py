from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    name = "kam.insight"
    label = "insight"
    verbose_name = _("Customer value, churn and early warning")

    def ready(self) -> None:
        from kam.insight import tier_forecast  # noqa: F401  (the value-potential tiering reads its forecasts)
