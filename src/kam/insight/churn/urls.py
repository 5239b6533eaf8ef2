"""The churn pages' URLs (in the insight namespace)."""

from django.urls import path

from kam.insight.churn import views

urlpatterns = [
    path("churn/", views.churn, name="churn"),
    path("churn/export/", views.churn_export, name="churn_export"),
    path("churn/tables/", views.churn_tables, name="churn_tables"),
    path("churn/definitions/", views.definitions, name="churn_definitions"),
    path("churn/definitions/<id:pk>/", views.definition_save, name="churn_definition"),
    path("churn/events/<id:pk>/", views.event_row, name="churn_event"),
    path("churn/events/<id:pk>/edit/", views.event_edit, name="churn_event_edit"),
    path("accounts/<id:pk>/churn/", views.account_churn, name="account_churn"),
    path("accounts/<id:pk>/churn/mark/", views.account_churn_mark, name="account_churn_mark"),
]
