"""The lead list in Excel: one line per lead, as the list shows it, with its SLA clock."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kam.core.exports import ExportColumn
from kam.sales.models import LeadStatus


def lead_columns() -> list[ExportColumn]:
    statuses = {value: str(label) for value, label in LeadStatus.choices}  # translated once, not per row
    return [
        ExportColumn(_("created at"), lambda lead: lead.created_at),
        ExportColumn(_("source"), lambda lead: lead.source),
        ExportColumn(_("company"), lambda lead: lead.company),
        ExportColumn(_("unified social credit code"), lambda lead: lead.uscc),
        ExportColumn(_("contact"), lambda lead: lead.contact_name),
        ExportColumn(_("contact's title"), lambda lead: lead.contact_title),
        ExportColumn(_("phone"), lambda lead: lead.phone),
        ExportColumn(_("email"), lambda lead: lead.email),
        ExportColumn(_("need"), lambda lead: lead.need),
        ExportColumn(_("estimated amount (yuan)"), lambda lead: lead.estimated_amount),
        ExportColumn(_("status"), lambda lead: statuses.get(lead.status, lead.status)),
        ExportColumn(_("org unit"), lambda lead: lead.unit or ""),
        ExportColumn(_("assignee"), lambda lead: lead.assignee or ""),
        ExportColumn(_("assigned at"), lambda lead: lead.assigned_at),
        ExportColumn(_("follow-up due"), lambda lead: lead.follow_up_due_at),
        ExportColumn(_("first follow-up"), lambda lead: lead.followed_up_at),
        ExportColumn(_("escalated to"), lambda lead: lead.escalated_to or ""),
        ExportColumn(_("escalated at"), lambda lead: lead.escalated_at),
        ExportColumn(_("reassignments"), lambda lead: lead.reassignments),
        ExportColumn(_("closed at"), lambda lead: lead.closed_at),
        ExportColumn(_("note"), lambda lead: lead.close_note),
    ]
