"""The warnings pages' URLs (in the insight namespace)."""

from django.urls import path

from kam.insight.warnings import views

urlpatterns = [
    path("warnings/", views.warnings, name="warnings"),
    path("warnings/export/", views.warnings_export, name="warnings_export"),
    path("warnings/evaluate/", views.warnings_evaluate, name="warnings_evaluate"),
    path("warnings/rules/", views.warning_rules, name="warning_rules"),
    path("warnings/<id:pk>/retain/", views.warning_retain, name="warning_retain"),
    path("accounts/<id:pk>/health/", views.account_health, name="account_health"),
    path("accounts/<id:pk>/health/evaluate/", views.account_health_evaluate, name="account_health_evaluate"),
    path("accounts/<id:pk>/surveys/", views.account_survey_add, name="account_survey_add"),
]
