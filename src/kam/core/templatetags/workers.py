"""`{% no_worker_notice %}`: on a page whose action hands work to the background worker, say
so when no worker is alive — the work would wait, and the page would otherwise just spin."""

from django import template

from kam.core.workers import no_worker_running

register = template.Library()


@register.inclusion_tag("core/no_worker.html")
def no_worker_notice(what: str = ""):
    """`what`: "import" for the import pages' wording; anything else the general one."""
    return {"show": no_worker_running(), "what": what}
