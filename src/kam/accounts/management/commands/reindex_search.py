"""`kam reindex-search`: the accounts' search index (kam.accounts.search) computed afresh."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from kam.accounts import search


class Command(BaseCommand):
    help = "Rebuild the index of Chinese character pairs the account search reads."

    def handle(self, *args, verbosity=1, **options):
        started = time.monotonic()
        written = search.rebuild()
        if verbosity:
            self.stdout.write(f"search index: {written:,} entries in {time.monotonic() - started:.1f} s")
