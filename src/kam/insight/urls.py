from kam.insight.views import churn, forecast, warnings

app_name = "insight"

urlpatterns = [
    *forecast.urlpatterns,
    *churn.urlpatterns,
    *warnings.urlpatterns,
]
