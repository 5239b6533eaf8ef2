from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "kam.activities"
    label = "activities"
    verbose_name = _("Activities and tasks")

    def ready(self):
        from kam.accounts.card import extras
        from kam.accounts.merge import account_merged
        from kam.activities.care.selectors import member_programmes
        from kam.activities.compliance import summary
        from kam.activities.services import activities_follow_merge

        account_merged.connect(activities_follow_merge, dispatch_uid="activities_follow_merge")
        # The card's member programme box (accounts sits below activities).
        extras.register_card_box("member_programmes", member_programmes)
        summary.register()
