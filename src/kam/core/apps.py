from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kam.core"
    label = "core"
    verbose_name = _("Organisation")

    def ready(self):
        from kam.core import audit  # noqa: F401  (connects the login signals)
