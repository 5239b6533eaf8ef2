from django.urls import path

from kam.sales.analytics.views import (
    analytics_export,
    analytics_page,
)

urlpatterns = [
    path("analytics/", analytics_page, name="analytics"),
    path("analytics/export/", analytics_export, name="analytics_export"),
]
