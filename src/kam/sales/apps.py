from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kam.sales"
    label = "sales"
    verbose_name = _("Leads, opportunities and deal reviews")

    def ready(self) -> None:
        from kam.sales import recycle_bin  # noqa: F401  (opportunities go into the bin with their account)
