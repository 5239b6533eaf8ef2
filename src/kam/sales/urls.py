from kam.sales.views import analytics, leads, opportunities, pool, reviews

app_name = "sales"

urlpatterns = [
    *leads.urlpatterns,
    *pool.urlpatterns,
    *opportunities.urlpatterns,
    *analytics.urlpatterns,
    *reviews.urlpatterns,
]
