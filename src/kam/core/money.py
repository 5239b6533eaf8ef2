"""Money as the services take it: 元 to the fen, Decimal, within the size of the money columns."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kam.core.errors import ValidationFailed

FEN = Decimal("0.01")
# The money columns hold 16 digits, two of them after the point.
MAX_YUAN = Decimal("1e14")


def parse_yuan(value, *, field: str, required: bool = False) -> Decimal | None:
    """`value` (a number or its text) as yuan to the fen; None when empty and not required.
    A refusal names `field` and the rule."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(_("Please correct the errors below."),
                                   errors={field: [_("This field is required.")]})
        return None
    try:
        amount = Decimal(str(value).strip()).quantize(FEN)
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("Please correct the errors below."), errors={
            field: [_("Enter an amount in yuan, e.g. 120000 or 120000.50.")]}) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_YUAN:
        raise ValidationFailed(_("Please correct the errors below."), errors={
            field: [_("Enter an amount from 0 to 99,999,999,999,999.99 yuan.")]})
    return amount
