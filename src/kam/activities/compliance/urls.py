from django.urls import path

from kam.activities.compliance import views

urlpatterns = [
    path("compliance/", views.compliance_page, name="compliance"),
    path("compliance/export/", views.compliance_export, name="compliance_export"),
    path("standards/", views.standard_list, name="standards"),
    path("standards/<id:pk>/", views.standard_edit, name="standard_edit"),
]
