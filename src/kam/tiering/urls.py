from django.urls import path

from kam.tiering import views

app_name = "tiering"
urlpatterns = [
    path("", views.scheme_list, name="list"),
    path("accounts/<id:pk>/assessment/", views.account_assessment, name="assessment"),
    path("snapshots/<id:pk>/freeze/", views.snapshot_freeze, name="freeze"),
    path("snapshots/<id:pk>/resume/", views.snapshot_resume, name="resume"),
    path("snapshots/<id:pk>/moves/", views.move_decide, name="move"),
    path("<slug:code>/", views.scheme_detail, name="detail"),
    path("<slug:code>/compute/", views.snapshot_compute, name="compute"),
    path("<slug:code>/what-if/", views.what_if, name="what_if"),
    path("<slug:code>/export/", views.snapshot_export, name="export"),
    path("<slug:code>/save/", views.scheme_save, name="save"),
]
