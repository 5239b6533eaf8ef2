from kam.sales.analytics import views as analytics
from kam.sales.leads import views as leads
from kam.sales.opportunities import views as opportunities
from kam.sales.pool import views as pool
from kam.sales.reviews import views as reviews

app_name = "sales"

urlpatterns = [
    *leads.urlpatterns,
    *pool.urlpatterns,
    *opportunities.urlpatterns,
    *analytics.urlpatterns,
    *reviews.urlpatterns,
]
