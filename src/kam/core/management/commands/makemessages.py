"""`makemessages` that also collects the filter-bar labels: `Label("…")` (kam.core.filters) is
marked for translation like `gettext_lazy("…")`."""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=Label"]
