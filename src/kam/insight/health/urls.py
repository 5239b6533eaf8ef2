"""The health card's URLs (in the insight namespace)."""

from django.urls import path

from kam.insight.health import views

urlpatterns = [
    path("accounts/<id:pk>/health/", views.account_health, name="account_health"),
    path("accounts/<id:pk>/health/evaluate/", views.account_health_evaluate, name="account_health_evaluate"),
    path("accounts/<id:pk>/surveys/", views.account_survey_add, name="account_survey_add"),
]
