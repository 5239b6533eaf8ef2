"""The accounts' read model: what the home page counts (kam.core.summaries explains the
mechanism). A change of `MIN_ACTIVE_CONTACTS` takes effect at the next rebuild (nightly, or
`kam rebuild-summaries`)."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, Q

from kam.accounts.models import Account, AccountCount, Contact, ContactStatus, DecisionRole
from kam.core import summaries
from kam.core.bulk import chunks
from kam.core.conf import config

ACCOUNT_COUNTS = "account-counts"


def account_counts(accounts) -> list[AccountCount]:
    """The rows of `accounts` (a queryset of live accounts), grouped."""
    rows = list(accounts.values_list("pk", "unit_id", "owner_id", "industry_id", "lifecycle_status", "channel"))
    covered: set[int] = set()
    departed: Counter[int] = Counter()
    least = config().MIN_ACTIVE_CONTACTS
    ids = [r[0] for r in rows]
    # A few groups' accounts are read by id, 5,000 at a time; a rebuild's (most of the live ones)
    # in one pass over the contacts.
    for part in [None] if Account.objects.most_of_the_live(len(ids)) else chunks(ids, 5000):
        contacts = Contact.objects.alive().order_by()
        if part is not None:
            contacts = contacts.filter(account_id__in=part)
        covered.update(contacts.filter(status=ContactStatus.ACTIVE).values("account_id").annotate(
            n=Count("id"), dm=Count("id", filter=Q(decision_role=DecisionRole.DECISION_MAKER)))
            .filter(n__gte=least, dm__gt=0).values_list("account_id", flat=True))
        departed.update(dict(contacts.filter(status=ContactStatus.LEFT, is_key=True, successor__isnull=True)
                             .values("account_id").annotate(n=Count("id")).values_list("account_id", "n")))
    groups: dict[tuple, list[int]] = {}
    for pk, unit, owner, industry, status, channel in rows:
        sums = groups.setdefault((unit or 0, owner or summaries.NO_OWNER, industry or 0, status, channel), [0, 0, 0])
        sums[0] += 1
        sums[1] += pk in covered
        sums[2] += departed[pk]
    return [AccountCount(unit_id=k[0], owner_id=k[1], industry_id=k[2], lifecycle_status=k[3], channel=k[4],
                         accounts=v[0], well_covered=v[1], departed_key_contacts=v[2]) for k, v in groups.items()]


def register() -> None:
    summaries.register(summaries.Summary(
        code=ACCOUNT_COUNTS, model=AccountCount, facts=frozenset({"accounts", "contacts"}), compute=account_counts,
        accounts=Account.objects.alive, visible=Account.objects.visible_to,
        team_only=Account.objects.seen_only_through_team))
    summaries.watch(Account, "accounts", account="pk")
    summaries.watch(Contact, "contacts")
