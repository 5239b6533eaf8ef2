from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kam.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from kam.accounts import search, summaries  # noqa: F401 (search: its signal)

        summaries.register()
