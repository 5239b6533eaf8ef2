"""Rows of other apps that go into the recycle bin with their account and come back with it
(opportunities). The app that owns them registers them in its AppConfig.ready(), so the
accounts app binning an account needs no import of the apps above it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model


@dataclass(frozen=True)
class BinnedWithAccount:
    kind: str  # the recycle bin's kind, e.g. "opportunity"
    plural: str  # the key in audit details and purge counts, e.g. "opportunities"
    label: Any  # the bin's filter label, e.g. gettext_lazy("Opportunities")
    model: type[Model]  # with deleted_at, deleted_by, deleted_with_account and in_recycle_bin_of(user)
    restore: Callable[..., Any]  # the owning app's restore service: restore(actor=, pk=)
    restored_url: Callable[[Any], str]  # where the restored item is shown


_REGISTERED: dict[str, BinnedWithAccount] = {}


def register(entry: BinnedWithAccount) -> None:
    _REGISTERED[entry.kind] = entry


def binned_with_account() -> list[BinnedWithAccount]:
    return list(_REGISTERED.values())


def binned_kind(kind: str) -> BinnedWithAccount | None:
    return _REGISTERED.get(kind)
