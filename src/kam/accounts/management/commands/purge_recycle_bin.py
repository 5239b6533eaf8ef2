from django.core.management.base import BaseCommand

from kam.accounts.recycle.services import recycle_bin_purge


class Command(BaseCommand):
    help = ("Delete for good the accounts, contacts and opportunities that have been in the recycle bin "
            "longer than KAM RECYCLE_BIN_DAYS (the nightly run does this too).")

    def handle(self, *args, **options):
        purged = recycle_bin_purge()
        self.stdout.write(f"purged {purged['accounts']} accounts, {purged['contacts']} contacts, "
                          f"{purged['opportunities']} opportunities")
