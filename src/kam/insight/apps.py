from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    name = "kam.insight"
    label = "insight"
    verbose_name = _("Customer value, churn and early warning")

    def ready(self) -> None:
        from kam.insight import tier_forecast  # noqa: F401  (the value-potential tiering reads its forecasts)

        self._register_account_health()
        from kam.insight.churn import summary
        from kam.insight.forecast import summary as score_summary
        from kam.insight.warnings import summary as warning_summary

        summary.register()
        warning_summary.register()
        score_summary.register()

    @staticmethod
    def _register_account_health() -> None:
        """The account list's and export's health score (accounts sits below insight)."""
        from kam.accounts.card import extras
        from kam.insight import health

        def band(account) -> None:
            account.health_band = health.band(account.health_score)

        extras.register_column("health", extras.ListColumn(annotate=health.with_health, decorate=band))

