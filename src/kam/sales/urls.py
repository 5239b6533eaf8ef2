from kam.sales.analytics import urls as analytics
from kam.sales.leads import urls as leads
from kam.sales.opportunities import urls as opportunities
from kam.sales.pool import urls as pool
from kam.sales.reviews import urls as reviews

app_name = "sales"

urlpatterns = [
    *leads.urlpatterns,
    *pool.urlpatterns,
    *opportunities.urlpatterns,
    *analytics.urlpatterns,
    *reviews.urlpatterns,
]
