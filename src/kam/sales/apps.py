from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kam.sales"
    label = "sales"
    verbose_name = _("Leads, opportunities and deal reviews")

    def ready(self) -> None:
        from kam.accounts.card import extras
        from kam.sales import recycle_bin  # noqa: F401  (opportunities go into the bin with their account)
        from kam.sales.analytics import summary
        from kam.sales.opportunities import summary as stage_counts
        from kam.sales.pool import policies as pool

        # The account card's pool buttons (accounts sits below sales).
        extras.register_card_actions("pool", lambda user, account: {
            "claim": account.owner_id is None and pool.may_claim(user),
            "assign": account.owner_id is None and pool.may_assign(user),
            "release": pool.may_release(user, account),
        })
        summary.register()
        stage_counts.register()
