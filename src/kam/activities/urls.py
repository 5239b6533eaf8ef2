from django.urls import path

from kam.activities import views
from kam.activities.planning import views as planning_views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("export/", views.activity_export, name="export"),
    path("accounts/<id:pk>/", views.account_activities, name="account"),
    path("accounts/<id:pk>/log/", views.activity_log_page, name="log"),
    path("compliance/", views.compliance_page, name="compliance"),
    path("compliance/export/", views.compliance_export, name="compliance_export"),
    path("standards/", views.standard_list, name="standards"),
    path("standards/<id:pk>/", views.standard_edit, name="standard_edit"),
    path("playbooks/", planning_views.playbook_list, name="playbooks"),
    path("playbooks/<id:pk>/steps/", planning_views.playbook_step_save, name="playbook_step"),
    path("plan/", planning_views.visit_plan, name="plan"),
    path("staffing/", planning_views.staffing, name="staffing"),
    path("staffing/export/", planning_views.staffing_export, name="staffing_export"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<id:pk>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<id:pk>/cancel/", views.task_cancel, name="task_cancel"),
]
