from django.urls import path

from kam.accounts.card import views as card
from kam.accounts.contacts import views as contacts
from kam.accounts.merge import views as merge
from kam.accounts.recycle import views as recycle
from kam.accounts.team import views as team

app_name = "accounts"
urlpatterns = [
    path("", card.account_list, name="list"),
    path("new/", card.account_create, name="create"),
    path("pick/", card.accounts_autocomplete, name="autocomplete"),
    path("export/", card.account_export, name="export"),
    path("contacts/export/", contacts.contact_export, name="contacts_export"),
    path("recycle-bin/", recycle.recycle_bin, name="recycle_bin"),
    path("recycle-bin/export/", recycle.recycle_bin_export, name="recycle_bin_export"),
    path("<id:pk>/restore/", recycle.account_restore, name="restore"),
    path("recycle-bin/contacts/<id:contact_id>/restore/", recycle.contact_restore, name="contact_restore"),
    path("recycle-bin/opportunities/<id:opportunity_id>/restore/", recycle.opportunity_restore,
         name="opportunity_restore"),
    path("<id:pk>/", card.account_detail, name="detail"),
    path("<id:pk>/edit/", card.account_edit, name="edit"),
    path("<id:pk>/merge/", merge.account_merge, name="merge"),
    path("<id:pk>/history/export/", card.history_export, name="history_export"),
    path("<id:pk>/contacts/export/", contacts.contact_export, name="account_contacts_export"),
    path("<id:pk>/delete/", recycle.account_delete, name="delete"),
    path("<id:pk>/team/", team.team_add, name="team_add"),
    path("<id:pk>/team/<id:member_id>/remove/", team.team_remove, name="team_remove"),
    path("<id:pk>/contacts/new/", contacts.contact_create, name="contact_create"),
    path("<id:pk>/contacts/<id:contact_id>/edit/", contacts.contact_edit, name="contact_edit"),
    path("<id:pk>/contacts/<id:contact_id>/delete/", contacts.contact_delete, name="contact_delete"),
]
