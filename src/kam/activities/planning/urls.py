from django.urls import path

from kam.activities.planning import views

urlpatterns = [
    path("plan/", views.visit_plan, name="plan"),
]
