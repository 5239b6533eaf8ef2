"""The forecast pages' URLs (in the insight namespace)."""

from django.urls import path

from kam.insight.forecast import views

urlpatterns = [
    path("models/", views.models, name="models"),
    path("models/export/", views.models_export, name="models_export"),
    path("models/refit/", views.models_refit, name="models_refit"),
    path("accounts/<id:pk>/forecast/", views.account_forecast, name="account_forecast"),
]
