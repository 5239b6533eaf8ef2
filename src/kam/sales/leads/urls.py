from django.urls import path

from kam.sales.leads.views import (
    lead_assign,
    lead_detail,
    lead_disqualify,
    lead_export,
    lead_follow_up,
    lead_list,
    lead_new,
    lead_qualify,
    lead_rule_delete,
    lead_rule_edit,
    lead_rule_move,
    lead_rule_new,
    lead_rule_toggle,
    lead_rules,
)

urlpatterns = [
    path("leads/", lead_list, name="leads"),
    path("leads/export/", lead_export, name="leads_export"),
    path("leads/new/", lead_new, name="lead_new"),
    path("leads/rules/", lead_rules, name="lead_rules"),
    path("leads/rules/new/", lead_rule_new, name="lead_rule_new"),
    path("leads/rules/<id:pk>/", lead_rule_edit, name="lead_rule_edit"),
    path("leads/rules/<id:pk>/move/", lead_rule_move, name="lead_rule_move"),
    path("leads/rules/<id:pk>/active/", lead_rule_toggle, name="lead_rule_toggle"),
    path("leads/rules/<id:pk>/delete/", lead_rule_delete, name="lead_rule_delete"),
    path("leads/<id:pk>/", lead_detail, name="lead"),
    path("leads/<id:pk>/follow-up/", lead_follow_up, name="lead_follow_up"),
    path("leads/<id:pk>/assign/", lead_assign, name="lead_assign"),
    path("leads/<id:pk>/qualify/", lead_qualify, name="lead_qualify"),
    path("leads/<id:pk>/disqualify/", lead_disqualify, name="lead_disqualify"),
]
