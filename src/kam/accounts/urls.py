from django.urls import path

from kam.accounts.card import views
from kam.core.views import accounts_autocomplete

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("pick/", accounts_autocomplete, name="autocomplete"),
    path("export/", views.account_export, name="export"),
    path("contacts/export/", views.contact_export, name="contacts_export"),
    path("recycle-bin/", views.recycle_bin, name="recycle_bin"),
    path("recycle-bin/export/", views.recycle_bin_export, name="recycle_bin_export"),
    path("<id:pk>/restore/", views.account_restore, name="restore"),
    path("recycle-bin/contacts/<id:contact_id>/restore/", views.contact_restore, name="contact_restore"),
    path("recycle-bin/opportunities/<id:opportunity_id>/restore/", views.opportunity_restore,
         name="opportunity_restore"),
    path("<id:pk>/", views.account_detail, name="detail"),
    path("<id:pk>/edit/", views.account_edit, name="edit"),
    path("<id:pk>/merge/", views.account_merge, name="merge"),
    path("<id:pk>/history/export/", views.history_export, name="history_export"),
    path("<id:pk>/contacts/export/", views.contact_export, name="account_contacts_export"),
    path("<id:pk>/delete/", views.account_delete, name="delete"),
    path("<id:pk>/team/", views.team_add, name="team_add"),
    path("<id:pk>/team/<id:member_id>/remove/", views.team_remove, name="team_remove"),
    path("<id:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("<id:pk>/contacts/<id:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("<id:pk>/contacts/<id:contact_id>/delete/", views.contact_delete, name="contact_delete"),
]
