"""Background jobs of the accounts app."""

from django_tasks import task

from kam.accounts.services import recycle_bin_purge


@task()
def purge_recycle_bin() -> int:
    """Run daily (e.g. from cron: `kam manage purge_recycle_bin`)."""
    return recycle_bin_purge()
