from django.urls import include, path

from kam.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("export/", views.activity_export, name="export"),
    path("accounts/<id:pk>/", views.account_activities, name="account"),
    path("accounts/<id:pk>/log/", views.activity_log_page, name="log"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<id:pk>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<id:pk>/cancel/", views.task_cancel, name="task_cancel"),
    # the features' pages, under the same namespace
    path("", include("kam.activities.compliance.urls")),
    path("", include("kam.activities.playbooks.urls")),
    path("", include("kam.activities.planning.urls")),
    path("", include("kam.activities.staffing.urls")),
]
