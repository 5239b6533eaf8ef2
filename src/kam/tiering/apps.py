from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TieringConfig(AppConfig):
    name = "kam.tiering"
    verbose_name = _("Tiering")

    def ready(self) -> None:
        # The account list's tier filter and the card's tier box (accounts sits below tiering).
        from kam.accounts.card import extras
        from kam.tiering import selectors, summaries

        summaries.register()

        extras.register_tier_filter(extras.TierFilter(choices=selectors.tier_choices,
                                                      narrow=selectors.accounts_in_tier))
        extras.register_card_box("tiers", lambda account: selectors.account_tiers(account=account))
        extras.register_card_box("tier_history", lambda account: selectors.account_tier_history(account=account))
