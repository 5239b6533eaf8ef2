"""Background jobs of the accounts app."""

from django_tasks import task

from kam.accounts.recycle.services import recycle_bin_purge


@task()
def purge_recycle_bin() -> dict[str, int]:
    """Part of the nightly run (KAM NIGHTLY_TASKS); `kam manage purge_recycle_bin` does the same."""
    return recycle_bin_purge()
