from django.urls import path

from kam.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("template/<str:kind>.xlsx", views.blank_template, name="blank"),
    path("templates/<id:pk>/delete/", views.template_delete, name="template_delete"),
    path("<id:pk>/", views.import_detail, name="detail"),
    path("<id:pk>/columns/", views.import_columns, name="columns"),
    path("<id:pk>/confirm/", views.import_confirm, name="confirm"),
    path("<id:pk>/cancel/", views.import_cancel, name="cancel"),
    path("<id:pk>/resume/", views.import_resume, name="resume"),
    path("<id:pk>/report/", views.import_report, name="report"),
]
