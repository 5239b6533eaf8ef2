from django.urls import path

from kam.accounts import views
from kam.core.views import accounts_autocomplete

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("pick/", accounts_autocomplete, name="autocomplete"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/delete/", views.account_delete, name="delete"),
    path("<int:pk>/team/", views.team_add, name="team_add"),
    path("<int:pk>/team/<int:member_id>/remove/", views.team_remove, name="team_remove"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
]
