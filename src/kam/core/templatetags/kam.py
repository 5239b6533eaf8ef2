from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def yuan(value):
    """12345.5 → 12,345.50 元; empty stays an em dash."""
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):,.2f} " + _("yuan")


@register.filter
def field_value(account, name):
    """The display value of one card field: choice labels, money, yes/no, or a dash."""
    field = account._meta.get_field(name)
    value = getattr(account, name)
    if value in (None, ""):
        return "—"
    if field.choices:
        return getattr(account, f"get_{name}_display")()
    if field.get_internal_type() == "DecimalField":
        return yuan(value)
    if field.get_internal_type() == "BooleanField":
        return _("Yes") if value else _("No")
    return value


@register.simple_tag
def sort_link(current, key):
    """The sort value a column header links to: ascending first, then descending."""
    return f"-{key}" if current == key else key


ATTITUDE_BADGE = {"supportive": "bg-green-lt", "neutral": "bg-yellow-lt", "opposed": "bg-red-lt"}


@register.filter
def attitude_badge(attitude):
    return ATTITUDE_BADGE.get(attitude, "bg-secondary-lt")


@register.inclusion_tag("core/as_of.html")
def as_of(moment):
    """When a page's figures were true: "As of 10:42" today, with the date on other days."""
    local = timezone.localtime(moment) if moment else None
    today = local is not None and local.date() == timezone.localdate()
    return {"moment": local, "shown": "" if local is None else local.strftime("%H:%M" if today else "%Y-%m-%d %H:%M")}
