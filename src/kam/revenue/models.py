"""Revenue facts (billing lines, orders, monthly spend) and their monthly aggregates."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kam.accounts.models import MONEY, Account


class RevenueFactQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(account__in=Account.objects.visible_to(user).values("pk"))


class RevenueFact(models.Model):
    """One dated line. (account, date, product) is its identity: importing a line again
    replaces it, so re-importing a file never counts revenue twice."""

    # Indexed by the unique key, which leads with the account.
    account = models.ForeignKey(Account, models.CASCADE, related_name="revenue_facts", verbose_name=_("account"),
                                db_index=False)
    date = models.DateField(_("date"))
    month = models.DateField(_("month"), editable=False)  # first day of the month of `date`
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    margin = models.DecimalField(_("margin (yuan)"), null=True, blank=True, **MONEY)
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=4, null=True, blank=True)
    product = models.CharField(_("product line"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RevenueFactQuerySet.as_manager()

    class Meta:
        verbose_name = _("revenue line")
        verbose_name_plural = _("revenue lines")
        constraints = [
            models.UniqueConstraint(fields=["account", "date", "product"], name="revenue_fact_once_per_day_product"),
        ]
        indexes = [models.Index(fields=["month", "account"]), models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.date} {self.amount}"


class MonthlyRevenue(models.Model):
    """Per account and month, the sums of its facts — what tiering reads. Kept in step by
    the importer, batch by batch, in the same transaction as the facts."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="monthly_revenue", db_index=False)
    month = models.DateField()
    amount = models.DecimalField(**MONEY)
    margin = models.DecimalField(null=True, blank=True, **MONEY)
    quantity = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    lines = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "month"], name="monthly_revenue_once")]
        # A window's sums read month, account and amount from this index alone.
        indexes = [models.Index(fields=["month", "account", "amount"], name="monthly_revenue_window_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m} {self.amount}"
