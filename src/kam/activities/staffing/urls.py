from django.urls import path

from kam.activities.staffing import views

urlpatterns = [
    path("staffing/", views.staffing, name="staffing"),
    path("staffing/export/", views.staffing_export, name="staffing_export"),
]
