from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kam.sales"
    label = "sales"
    verbose_name = _("Leads, opportunities and deal reviews")
