"""Finding accounts by what a user types: name, short name, code, USCC, full pinyin or
pinyin initials (zgyd → 中国移动), all held in `Account.search_text`.

A term of Chinese characters (two or more, nothing ASCII) is looked up in AccountPair, the
index of every two adjacent non-ASCII characters of each account's search text: the
accounts holding the term's rarest pair are the only candidates, and the search text
itself then confirms each. Other terms (pinyin, codes, one character) are compared with
every live account's search text.

The index follows the search text wherever it is written: a saved account (the signal
below), the import's bulk writes, accounts created by a revenue import and the demo's
(each calls `index`); `rebuild` recomputes it whole (`kam reindex-search`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save
from django.dispatch import receiver

from kam.accounts.models import Account, AccountPair
from kam.core.bulk import chunks, insert_rows
from kam.core.text import wide_pairs

# A pair held by this many accounts or more selects too little to be worth the lookup: the
# term's candidates are then read from the search texts themselves.
COMMON_PAIR = 1000


def candidates(term: str) -> QuerySet[AccountPair] | None:
    """The ids of the accounts that may hold `term`, from its rarest pair; None when the index
    does not serve this term (not Chinese characters only, or made of common pairs only)."""
    if len(term) < 2 or any(c.isascii() for c in term):
        return None
    counts: dict[str, int] = {}
    for pair in sorted(wide_pairs(term)):
        counts[pair] = AccountPair.objects.filter(pair=pair)[:COMMON_PAIR].count()
        if counts[pair] == 0:
            break
    rarest = min(counts, key=counts.__getitem__)
    if counts[rarest] >= COMMON_PAIR:
        return None
    return AccountPair.objects.filter(pair=rarest).values("account_id")


def matching(term: str, prefix: str = "") -> Q:
    """A filter for the accounts (or, with `prefix` "account__", the records of accounts) whose
    search text holds `term`, a normalised query."""
    holds = Q(**{f"{prefix}search_text__contains": term})
    if (ids := candidates(term)) is None:
        return holds
    return Q(**{f"{prefix}id__in": ids}) & holds


def pairs_of(accounts: Iterable[tuple[int, str]]) -> Iterable[AccountPair]:
    for account_id, text in accounts:
        for pair in wide_pairs(text):
            yield AccountPair(pair=pair, account_id=account_id)


def index(accounts: Iterable[tuple[int, str]]) -> None:
    """Replace the index entries of these (account id, search text) pairs."""
    for batch in chunks(list(accounts)):
        with transaction.atomic():
            AccountPair.objects.filter(account_id__in=[a for a, _text in batch]).delete()
            insert_rows(AccountPair, pairs_of(batch))


def index_ids(ids: Iterable[int]) -> None:
    for batch in chunks(list(ids)):
        index(Account.objects.filter(pk__in=batch).values_list("pk", "search_text"))


def rebuild() -> int:
    """The whole index computed afresh from every account's search text; the entries written."""
    written = 0
    with transaction.atomic():
        AccountPair.objects.all().delete()
        last = 0
        while batch := list(Account.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "search_text")[:5000]):
            written += insert_rows(AccountPair, pairs_of(batch))
            last = batch[-1][0]
    return written


@receiver(post_save, sender=Account, dispatch_uid="accounts.search.index")
def _saved(sender, instance: Account, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields is not None and "search_text" not in update_fields):
        return
    index([(instance.pk, instance.search_text)])
