"""Background jobs of activities; the scheduler (kam.core.schedule) enqueues them nightly."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django_tasks import task

from kam.core.conf import config
from kam.core.models import Role


@task()
def create_cadence_reminders(scheme_code: str = "", as_of: str = "") -> int:
    """Reminder tasks for the visits and calls falling due in the coming days (see
    compliance.services.cadence_reminders_create), as the first active administrator."""
    from kam.activities.compliance.services import cadence_reminders_create
    from kam.tiering.models import Scheme

    users = get_user_model().objects.filter(is_active=True)
    actor = (users.filter(role=Role.ADMIN) | users.filter(is_superuser=True)).order_by("id").first()
    scheme = Scheme.objects.filter(code=scheme_code or config().CADENCE_SCHEME).first()
    if actor is None or scheme is None:
        return 0
    return cadence_reminders_create(actor=actor, scheme=scheme, as_of=date.fromisoformat(as_of) if as_of else None)


@task()
def create_sample_calls(as_of: str = "") -> int:
    """Nightly: this month's sample calls to the C accounts (see activities.care.services)."""
    from kam.activities.care.services import sample_calls_create

    return sample_calls_create(today=date.fromisoformat(as_of) if as_of else None)


@task()
def apply_playbooks(as_of: str = "") -> dict[str, int]:
    """Nightly: accounts whose signing date puts them in a new relationship stage enter it,
    the others get their repeating playbook tasks that came within the horizon."""
    from kam.activities.playbooks.services import playbook_apply

    return playbook_apply(today=date.fromisoformat(as_of) if as_of else None)
