from django.urls import path

from kam.activities.playbooks import views

urlpatterns = [
    path("playbooks/", views.playbook_list, name="playbooks"),
    path("playbooks/<id:pk>/steps/", views.playbook_step_save, name="playbook_step"),
]
