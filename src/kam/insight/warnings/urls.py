"""The warnings pages' URLs (in the insight namespace)."""

from django.urls import path

from kam.insight.warnings import views

urlpatterns = [
    path("warnings/", views.warnings, name="warnings"),
    path("warnings/export/", views.warnings_export, name="warnings_export"),
    path("warnings/evaluate/", views.warnings_evaluate, name="warnings_evaluate"),
    path("warnings/rules/", views.warning_rules, name="warning_rules"),
    path("warnings/<id:pk>/retain/", views.warning_retain, name="warning_retain"),
]
