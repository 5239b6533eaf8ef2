"""The recycle bin's clock: deleted accounts, contacts and opportunities stay restorable for
KAM RECYCLE_BIN_DAYS days after they were deleted; the nightly purge then removes them for good."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.utils import timezone

from kam.core.audit import audit_record
from kam.core.conf import config


def bin_days() -> int:
    return int(config().RECYCLE_BIN_DAYS)


def bin_cutoff(now: datetime | None = None) -> datetime:
    """Items deleted before this moment have outlived the period (restorable: at or after it)."""
    return (now or timezone.now()) - timedelta(days=bin_days())


def days_left(deleted_at: datetime, now: datetime | None = None) -> int:
    """Whole days (rounded up) until an item deleted at `deleted_at` is purged; 0 once it is due."""
    remaining = deleted_at + timedelta(days=bin_days()) - (now or timezone.now())
    return max(0, math.ceil(remaining.total_seconds() / 86400))


# --- the writes every binning service shares (each service locks, checks and calls these) ---------


def bin_item(obj, *, actor, at: datetime, with_account: bool = False) -> None:
    """Mark `obj` (an account, contact or opportunity) deleted by `actor` at `at`; its history
    gets a row with who and when."""
    obj.deleted_at, obj.deleted_by = at, actor
    if hasattr(obj, "deleted_with_account"):
        obj.deleted_with_account = with_account
    obj.version += 1
    obj._history_user = actor
    obj.save()


def unbin_item(obj, *, actor) -> None:
    obj.deleted_at, obj.deleted_by = None, None
    if hasattr(obj, "deleted_with_account"):
        obj.deleted_with_account = False
    obj.version += 1
    obj._history_user = actor
    obj.save()


def bin_event(kind: str, obj, *, actor, **detail) -> None:
    """The audit event of a deletion, restore or purge: `target` names the item for the audit
    page's search, `detail` carries its model and id."""
    label = f"{obj.code} {obj}" if obj._meta.model_name == "account" else f"{obj} ({obj.account})"
    audit_record(kind=kind, user=actor, target=f"{obj._meta.verbose_name} {label}"[:255],
                 model=obj._meta.model_name, id=obj.pk, **detail)
