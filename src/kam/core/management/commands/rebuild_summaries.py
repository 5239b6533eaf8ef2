"""`kam rebuild-summaries [CODE …]`: every read model (or those named) computed afresh from the raw facts."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from kam.core import summaries


class Command(BaseCommand):
    help = "Rebuild the read models (summary tables) from the raw facts."

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="*", help="summaries to rebuild (default: all)")

    def handle(self, *args, codes, verbosity=1, **options):
        known = [s.code for s in summaries.registered()]
        if unknown := [c for c in codes if c not in known]:
            raise CommandError(f"unknown summary {', '.join(unknown)}; known: {', '.join(known)}")
        for code in codes or known:
            started = time.monotonic()
            groups = summaries.rebuild([code])[code]
            if verbosity:
                self.stdout.write(f"{code}: {groups:,} groups in {time.monotonic() - started:.1f} s")
