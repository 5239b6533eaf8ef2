from django.core.management.base import BaseCommand

from kam.accounts.services import recycle_bin_purge


class Command(BaseCommand):
    help = "Delete for good what has been in the recycle bin longer than KAM RECYCLE_BIN_DAYS."

    def handle(self, *args, **options):
        self.stdout.write(f"purged {recycle_bin_purge()} accounts")
