"""The insight pages: each feature's URLs under one namespace (URL names and paths as before)."""

from kam.insight.churn.urls import urlpatterns as churn_urls
from kam.insight.forecast.urls import urlpatterns as forecast_urls
from kam.insight.health.urls import urlpatterns as health_urls
from kam.insight.warnings.urls import urlpatterns as warning_urls

app_name = "insight"

urlpatterns = [
    *forecast_urls,
    *churn_urls,
    *warning_urls,
    *health_urls,
]
