"""The models page's read model: the histogram of P(alive) over the accounts a user sees, summed
from ScoreTenth rows (per unit × owner × tenth) instead of counted over every visible account's
score on each request (kam.core.summaries explains the mechanism). A new scoring (the nightly
refit, or one asked for) marks the model stale, a score saved on its own its account ("scores"); a change of an account's unit or
owner, or its deletion, moves it between groups ("accounts")."""

from __future__ import annotations

from django.db.models import Count, Value
from django.db.models.functions import Coalesce

from kam.accounts.models import Account
from kam.core import summaries
from kam.insight.forecast.selectors import tenth_of_p_alive
from kam.insight.models import AccountScore, ScoreTenth

SCORE_TENTHS = "score-tenths"
BINS = 10


def score_tenths(accounts) -> list[ScoreTenth]:
    """The rows of `accounts` (live ones): their scores counted per unit, owner and tenth."""
    rows = (AccountScore.objects.filter(account__in=accounts.values("pk"))
            .annotate(u=Coalesce("account__unit_id", Value(0)), o=Coalesce("account__owner_id", Value(summaries.NO_OWNER)),
                      tenth=tenth_of_p_alive(BINS))
            .values_list("u", "o", "tenth").annotate(n=Count("pk")).order_by())
    return [ScoreTenth(unit_id=u, owner_id=o, tenth=tenth, accounts=n) for u, o, tenth, n in rows]


def register() -> None:
    summaries.register(summaries.Summary(
        code=SCORE_TENTHS, model=ScoreTenth, facts=frozenset({"accounts", "scores"}), compute=score_tenths,
        accounts=Account.objects.alive, visible=Account.objects.visible_to,
        team_only=Account.objects.seen_only_through_team, measures=("accounts",)))
    summaries.watch(AccountScore, "scores")  # a score saved on its own (the bulk scoring marks the model stale)


def visible_histogram(user) -> list[int]:
    """How many of the accounts `user` sees have their score in each tenth of P(alive)."""
    read = summaries.figures(SCORE_TENTHS, user, by_owner=False)
    counts = summaries.by(read.rows, "tenth", "accounts")
    return [int(counts.get(n, 0)) for n in range(BINS)]
